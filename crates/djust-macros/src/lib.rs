//! Procedural macros for [djust](https://docs.rs/djust) live views.
//!
//! Use them through the re-exports `djust::event_handlers` and `djust::event_handler`:
//!
//! ```text
//! #[djust::event_handlers]
//! impl CollabView {
//!     #[event_handler]
//!     async fn cursor_move(&mut self, socket: &mut Socket, x: i64, y: i64) -> Result<(), ViewError> {
//!         self.x = x;
//!         self.y = y;
//!         Ok(())
//!     }
//! }
//! ```
//!
//! `#[event_handlers]` generates `impl djust::HandleEvent for CollabView` that dispatches an event by
//! name and deserializes each parameter from the event payload by its name. The crate itself cannot
//! run these examples (a proc-macro crate cannot depend on `djust`); `djust`'s tests cover them.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, Type, parse_macro_input,
};

/// Turns the methods marked `#[event_handler]` in an inherent `impl` block into the view's
/// `djust::HandleEvent` implementation.
///
/// Handler rules:
/// - the receiver is `&mut self` (or `&self`);
/// - an optional `&mut Socket` comes right after the receiver;
/// - every other argument is an event parameter, deserialized from the payload key of the same
///   name (`Option<T>` makes it optional; keys the handler does not name are ignored);
/// - the function may be `async` or not, and returns `()` or `Result<(), E>` with
///   `E: Into<djust::ViewError>`;
/// - `#[event_handler(name = "other")]` dispatches the event `other` to this method;
/// - `#[event_handler(render = false)]` declares that the handler changes nothing its own page
///   shows (e.g. a `cursor_move` that only calls `update_cursor_position`: a page never shows
///   its own cursor), so a successful call does not re-render the view. Peers still update.
///
/// Apply it to an empty block (`#[djust::event_handlers] impl MyView {}`) for a view without events.
#[proc_macro_attribute]
pub fn event_handlers(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let err = Error::new(
            Span::call_site(),
            "#[event_handlers] takes no arguments; put #[event_handler] on each handler method",
        );
        return err.to_compile_error().into();
    }
    let mut item = parse_macro_input!(item as ItemImpl);
    match expand(&mut item) {
        Ok(handle_event) => quote!(#item #handle_event).into(),
        Err(err) => {
            let err = err.to_compile_error();
            quote!(#item #err).into()
        }
    }
}

/// Marks a method of a `#[djust::event_handlers]` impl block as an event handler.
///
/// On its own (outside such a block) it is a compile error, because only the enclosing
/// `#[event_handlers]` can generate the dispatch code.
#[proc_macro_attribute]
pub fn event_handler(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    let err = Error::new(
        Span::call_site(),
        "#[event_handler] only works inside an impl block marked #[djust::event_handlers]",
    )
    .to_compile_error();
    quote!(#err #item).into()
}

/// One handler found in the impl block.
struct Handler {
    event: String,
    method: syn::Ident,
    is_async: bool,
    takes_socket: bool,
    params: Vec<(String, Type, Span)>,
    /// False for `#[event_handler(render = false)]`.
    render: bool,
}

fn expand(item: &mut ItemImpl) -> syn::Result<TokenStream2> {
    if let Some((_, path, _)) = &item.trait_ {
        return Err(Error::new(
            path.span(),
            "#[event_handlers] goes on an inherent impl block (`impl MyView { .. }`), not a trait impl",
        ));
    }
    let mut handlers = Vec::new();
    let mut errors: Option<Error> = None;
    for impl_item in &mut item.items {
        let ImplItem::Fn(func) = impl_item else {
            continue;
        };
        let Some(pos) = func.attrs.iter().position(is_handler_attr) else {
            continue;
        };
        let attr = func.attrs.remove(pos);
        match parse_handler(&attr, func) {
            Ok(h) => handlers.push(h),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(err) = errors {
        return Err(err);
    }
    let mut seen = std::collections::HashSet::new();
    for h in &handlers {
        if !seen.insert(h.event.clone()) {
            return Err(Error::new(
                h.method.span(),
                format!("two handlers for the event `{}`", h.event),
            ));
        }
    }

    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let names: Vec<&str> = handlers.iter().map(|h| h.event.as_str()).collect();
    let no_render: Vec<&str> = handlers
        .iter()
        .filter(|h| !h.render)
        .map(|h| h.event.as_str())
        .collect();
    let arms = handlers.iter().map(dispatch_arm);
    Ok(quote! {
        impl #impl_generics ::djust::HandleEvent for #self_ty #where_clause {
            const EVENTS: &'static [&'static str] = &[#(#names),*];
            const NO_RENDER: &'static [&'static str] = &[#(#no_render),*];

            #[allow(unused_variables)]
            async fn handle_event(
                &mut self,
                event: &str,
                payload: &::djust::__private::Payload,
                socket: &mut ::djust::Socket,
            ) -> ::core::result::Result<(), ::djust::EventError> {
                match event {
                    #(#arms)*
                    _ => ::core::result::Result::Err(::djust::EventError::unknown(event)),
                }
            }
        }
    })
}

fn dispatch_arm(h: &Handler) -> TokenStream2 {
    let event = &h.event;
    let method = &h.method;
    let vars: Vec<_> = (0..h.params.len())
        .map(|i| format_ident!("__djust_p{}", i))
        .collect();
    // Every parameter is decoded before the handler runs, so a bad one leaves the view untouched.
    let decode = h.params.iter().zip(&vars).map(|((name, ty, span), var)| {
        quote_spanned! {*span=>
            let #var: #ty = ::djust::__private::param(payload, #event, #name)?;
        }
    });
    let socket_arg = h.takes_socket.then(|| quote!(socket,));
    let call = if h.is_async {
        quote!(self.#method(#socket_arg #(#vars),*).await)
    } else {
        quote!(self.#method(#socket_arg #(#vars),*))
    };
    quote! {
        #event => {
            #(#decode)*
            ::djust::__private::into_result(#event, #call)
        }
    }
}

fn is_handler_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "event_handler")
}

fn parse_handler(attr: &Attribute, func: &ImplItemFn) -> syn::Result<Handler> {
    let mut event = func.sig.ident.to_string();
    let mut render = true;
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                event = lit.value();
                Ok(())
            } else if meta.path.is_ident("render") {
                let lit: syn::LitBool = meta.value()?.parse()?;
                render = lit.value;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown #[event_handler] option; expected `name = \"...\"` or `render = false`",
                ))
            }
        })?;
    }
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return Err(Error::new(
            sig.generics.span(),
            "event handlers cannot be generic: each parameter needs a concrete type to decode into",
        ));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() => {}
        _ => {
            return Err(Error::new(
                sig.span(),
                "an event handler takes `&mut self` (or `&self`) as its first argument",
            ));
        }
    }
    let mut takes_socket = false;
    let mut params = Vec::new();
    for (index, input) in inputs.enumerate() {
        let FnArg::Typed(pt) = input else {
            continue;
        };
        if is_socket(&pt.ty) {
            if index != 0 {
                return Err(Error::new(
                    pt.ty.span(),
                    "`&mut Socket` must come right after `self`",
                ));
            }
            takes_socket = true;
            continue;
        }
        let Pat::Ident(pat) = &*pt.pat else {
            return Err(Error::new(
                pt.pat.span(),
                "event parameters must be plain names (`x: i64`): the name is the payload key",
            ));
        };
        let name = pat.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        params.push((name, (*pt.ty).clone(), pt.span()));
    }
    Ok(Handler {
        event,
        method: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        takes_socket,
        params,
        render,
    })
}

/// `&mut Socket` or `&mut djust::Socket` (matched by the last path segment).
fn is_socket(ty: &Type) -> bool {
    let Type::Reference(r) = ty else {
        return false;
    };
    if r.mutability.is_none() {
        return false;
    }
    matches!(&*r.elem, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Socket"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand_err(mut item: ItemImpl) -> String {
        expand(&mut item)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn generates_dispatch_and_strips_the_attributes() {
        let mut item: ItemImpl = parse_quote! {
            impl V {
                #[event_handler]
                async fn cursor_move(&mut self, socket: &mut Socket, x: i64, y: i64) {}
                #[event_handler(name = "other")]
                fn go(&self, r#type: Option<String>) {}
                fn helper(&self) {}
            }
        };
        let out = expand(&mut item).unwrap().to_string();
        assert!(out.contains("impl :: djust :: HandleEvent for V"), "{out}");
        assert!(out.contains(r#"& ["cursor_move" , "other"]"#), "{out}");
        assert!(
            out.contains(r#"param (payload , "cursor_move" , "x")"#),
            "{out}"
        );
        assert!(
            out.contains(r#"param (payload , "other" , "type")"#),
            "{out}"
        );
        assert!(out.contains("self . cursor_move (socket ,"), "{out}");
        assert!(out.contains(". await"), "async handlers are awaited: {out}");
        let kept = quote!(#item).to_string();
        assert!(
            !kept.contains("event_handler"),
            "attributes are removed: {kept}"
        );
        assert!(kept.contains("fn helper"), "other methods are kept");
    }

    #[test]
    fn rejects_misuse_with_helpful_errors() {
        let err = expand_err(parse_quote! { impl V { #[event_handler] fn f(self) {} } });
        assert!(err.contains("&mut self"), "{err}");
        let err = expand_err(parse_quote! {
            impl V { #[event_handler] fn f(&mut self, x: i64, s: &mut Socket) {} }
        });
        assert!(err.contains("right after `self`"), "{err}");
        let err = expand_err(parse_quote! {
            impl V { #[event_handler] fn f(&mut self, (a, b): (i64, i64)) {} }
        });
        assert!(err.contains("plain names"), "{err}");
        let err = expand_err(parse_quote! {
            impl V {
                #[event_handler] fn f(&mut self) {}
                #[event_handler(name = "f")] fn g(&mut self) {}
            }
        });
        assert!(err.contains("two handlers for the event `f`"), "{err}");
        let err = expand_err(parse_quote! { impl T for V {} });
        assert!(err.contains("inherent impl"), "{err}");
        let err = expand_err(parse_quote! {
            impl V { #[event_handler(rename = "x")] fn f(&mut self) {} }
        });
        assert!(err.contains("name = "), "{err}");
    }
}
