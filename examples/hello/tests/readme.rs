//! The README's "Use djust in your app" section is this example: the same `src/main.rs`, the
//! same template, and the same dependencies (with the same features) as `Cargo.toml`.

const README: &str = include_str!("../../../README.md");
const MAIN: &str = include_str!("../src/main.rs");
const TEMPLATE: &str = include_str!("../templates/document.html");
const MANIFEST: &str = include_str!("../Cargo.toml");

/// The fenced block of `lang` that follows `after` in the README's "Use djust in your app".
fn block(lang: &str, after: &str) -> String {
    let section = README
        .split("## Use djust in your app")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a \"Use djust in your app\" section");
    let from = section
        .find(after)
        .unwrap_or_else(|| panic!("{after} in the section"));
    let fence = format!("```{lang}\n");
    let start = section[from..].find(&fence).expect("a fenced block") + from + fence.len();
    let len = section[start..].find("```").expect("a closing fence");
    section[start..start + len].to_owned()
}

/// `name -> sorted features` of the `[dependencies]` table of a manifest text.
fn dependencies(manifest: &str) -> Vec<(String, Vec<String>)> {
    let mut deps = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        let Some((name, spec)) = line
            .split_once('=')
            .filter(|_| inside && !line.starts_with('#'))
        else {
            continue;
        };
        let mut features: Vec<String> = spec
            .split_once("features")
            .and_then(|(_, f)| f.split_once('[').and_then(|(_, f)| f.split_once(']')))
            .map(|(list, _)| {
                list.split(',')
                    .map(|f| f.trim().trim_matches('"').to_owned())
                    .filter(|f| !f.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        features.retain(|f| f != "redis"); // the workspace spells out djust's default feature
        features.sort();
        let name = name.trim().trim_end_matches(".workspace").to_owned();
        deps.push((name, features));
    }
    deps.sort();
    deps
}

#[test]
fn the_readme_code_is_the_hello_example() {
    assert_eq!(
        block("rust", "`src/main.rs`"),
        MAIN,
        "README's src/main.rs differs from examples/hello/src/main.rs"
    );
}

#[test]
fn the_readme_template_is_the_hello_template() {
    assert_eq!(block("html", "`templates/document.html`"), TEMPLATE);
}

#[test]
fn the_readme_dependencies_are_the_hello_dependencies() {
    let readme = dependencies(&block("toml", "`Cargo.toml`"));
    assert_eq!(readme, dependencies(MANIFEST));
    assert_eq!(
        readme.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["djust", "serde", "tokio"]
    );
}
