//! `DJUST_*` environment variables: the names the runtime knows, the unit rule for durations, and
//! the start-up warning about names nobody reads (usually a typo).
//!
//! **Unit rule.** Every duration has two spellings: `NAME` in seconds (fractions allowed, `0.5`, as
//! the spec's `presence_timeout` keys are written) and `NAME_MS` in whole milliseconds. Set only one
//! of them; both is an error naming the two. So `DJUST_TICK_MS=10` and `DJUST_TICK=0.01` are the
//! same, and `DJUST_PRESENCE_TIMEOUT=60` equals `DJUST_PRESENCE_TIMEOUT_MS=60000`.

use std::time::Duration;

use crate::error::BuildError;
use crate::presence::parse_secs;

/// The durations, by their seconds spelling (each also accepts `_MS`). Names on one line are
/// one setting (`DJUST_PRESENCE_HEARTBEAT_INTERVAL` is the spec's name of the heartbeat).
pub(crate) const TICK: &[&str] = &["DJUST_TICK"];
/// The heartbeat interval's two names.
pub(crate) const HEARTBEAT: &[&str] = &[
    "DJUST_PRESENCE_HEARTBEAT_INTERVAL",
    "DJUST_HEARTBEAT_INTERVAL",
];
/// The idle timeout.
pub(crate) const IDLE_TIMEOUT: &[&str] = &["DJUST_IDLE_TIMEOUT"];
/// The presence timeout (the spec's `presence_timeout`).
pub(crate) const PRESENCE_TIMEOUT: &[&str] = &["DJUST_PRESENCE_TIMEOUT"];
/// The reconnect grace.
pub(crate) const RECONNECT_GRACE: &[&str] = &["DJUST_PRESENCE_RECONNECT_GRACE"];
/// The send deadline of a server frame.
pub(crate) const SEND_TIMEOUT: &[&str] = &["DJUST_SEND_TIMEOUT"];
/// How long a listed cursor keeps its place above the cursor limit.
pub(crate) const CURSOR_LINGER: &[&str] = &["DJUST_PRESENCE_CURSOR_LINGER"];

const DURATIONS: &[&[&str]] = &[
    TICK,
    HEARTBEAT,
    IDLE_TIMEOUT,
    PRESENCE_TIMEOUT,
    RECONNECT_GRACE,
    SEND_TIMEOUT,
    CURSOR_LINGER,
];

/// Every other `DJUST_*` variable something in djust reads: the runtime's settings, and the test
/// kit's (so running the tests does not warn).
pub const OTHER_VARIABLES: &[&str] = &[
    "DJUST_MAX_FRAME_BYTES",
    "DJUST_RATE_PER_SEC",
    "DJUST_RATE_BURST",
    "DJUST_FRAME_RATE_PER_SEC",
    "DJUST_FRAME_RATE_BURST",
    "DJUST_INFO_QUEUE",
    "DJUST_WS_READ_BUFFER",
    "DJUST_WS_WRITE_BUFFER",
    "DJUST_WS_MAX_WRITE_BUFFER",
    "DJUST_ALLOWED_ORIGINS",
    "DJUST_SECRET_KEY",
    "DJUST_SECURE_COOKIE",
    "DJUST_PRESENCE_BACKEND",
    "DJUST_PRESENCE_MAX_META_BYTES",
    "DJUST_PRESENCE_SUBSCRIBER_QUEUE",
    "DJUST_PRESENCE_CURSOR_LIMIT",
    "DJUST_REDIS_URL",
    "DJUST_LOG_FORMAT",
    "DJUST_DEV",
    "DJUST_TEMPLATES_DIR",
    "DJUST_TEST_SKIP_EXTERNAL",
    "DJUST_CHROMEDRIVER",
    "DJUST_CHROMIUM",
    "DJUST_TESTKIT_VERBOSE",
    "DJUST_TESTKIT_CHILD",
];

/// Every `DJUST_*` name the runtime and its tools read (durations in both spellings).
pub fn known_variables() -> Vec<String> {
    let mut names: Vec<String> = DURATIONS
        .iter()
        .flat_map(|setting| setting.iter())
        .flat_map(|name| [(*name).to_owned(), format!("{name}_MS")])
        .collect();
    names.extend(OTHER_VARIABLES.iter().map(|n| (*n).to_owned()));
    names
}

/// Reads the duration setting whose names (seconds spelling) are `names`, each also as `_MS`.
///
/// # Errors
/// A value that does not parse (naming the variable), or more than one spelling set.
pub(crate) fn duration(
    lookup: &impl Fn(&str) -> Option<String>,
    names: &[&str],
) -> Result<Option<Duration>, BuildError> {
    let mut found: Option<(String, Duration)> = None;
    for name in names {
        let ms_name = format!("{name}_MS");
        let secs = lookup(name).map(|raw| parse_secs(name, &raw).map(|d| ((*name).to_owned(), d)));
        let ms = lookup(&ms_name).map(|raw| parse_ms(&ms_name, &raw).map(|d| (ms_name.clone(), d)));
        for value in [secs, ms].into_iter().flatten() {
            let (name, value) = value?;
            if let Some((first, _)) = &found {
                return Err(BuildError::Config(format!(
                    "{first} and {name} are the same setting (durations: NAME in seconds or \
                     NAME_MS in milliseconds); set only one"
                )));
            }
            found = Some((name, value));
        }
    }
    Ok(found.map(|(_, d)| d))
}

fn parse_ms(name: &str, raw: &str) -> Result<Duration, BuildError> {
    raw.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            BuildError::Config(format!(
                "{name}={raw:?} is not a whole number of milliseconds (e.g. \"250\"; \
             use {} for seconds)",
                name.trim_end_matches("_MS")
            ))
        })
}

/// `DJUST_*` names among `vars` that nothing reads, each with the known name it most resembles.
pub fn unknown_variables<I, S>(vars: I) -> Vec<(String, Option<String>)>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let known = known_variables();
    vars.into_iter()
        .map(|v| v.as_ref().to_owned())
        .filter(|v| v.starts_with("DJUST_") && !known.contains(v))
        .map(|v| {
            let hint = known
                .iter()
                .map(|k| (strsim::levenshtein(k, &v), k))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, k)| k.clone());
            (v, hint)
        })
        .collect()
}

/// Warns (see [`startup_warning`]) about every unknown `DJUST_*` variable of this process.
pub(crate) fn warn_unknown_variables() {
    let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
    for (name, hint) in unknown_variables(names) {
        let hint = hint.map_or_else(String::new, |k| format!(" (did you mean {k}?)"));
        startup_warning(&format!(
            "environment variable {name} is not a djust setting and is ignored{hint}"
        ));
    }
}

/// A start-up warning that must not be lost: through `tracing` when the application installed
/// a subscriber, else on stderr (a new app often has none yet).
pub(crate) fn startup_warning(message: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!("djust: {message}");
    } else {
        eprintln!("djust: warning: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn seconds_and_milliseconds_spell_the_same_duration() {
        let secs = duration(&lookup(&[("DJUST_TICK", "0.02")]), TICK).unwrap();
        let ms = duration(&lookup(&[("DJUST_TICK_MS", "20")]), TICK).unwrap();
        assert_eq!(secs, Some(Duration::from_millis(20)));
        assert_eq!(secs, ms);
        assert_eq!(duration(&lookup(&[]), TICK).unwrap(), None);
    }

    #[test]
    fn two_spellings_of_one_setting_are_refused() {
        let err = duration(
            &lookup(&[
                ("DJUST_PRESENCE_TIMEOUT", "30"),
                ("DJUST_PRESENCE_TIMEOUT_MS", "30000"),
            ]),
            PRESENCE_TIMEOUT,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("DJUST_PRESENCE_TIMEOUT_MS") && err.contains("set only one"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_millisecond_value_names_the_variable_and_the_unit() {
        let err = duration(&lookup(&[("DJUST_TICK_MS", "0.5")]), TICK)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DJUST_TICK_MS") && err.contains("milliseconds"),
            "{err}"
        );
    }

    #[test]
    fn unknown_names_are_found_with_a_suggestion() {
        let unknown = unknown_variables([
            "DJUST_TICK_MS",
            "DJUST_PRESENCE_TIMEOUT",
            "DJUST_PRESENSE_TIMEOUT",
            "DJUST_WHATEVER_ELSE_ENTIRELY",
            "PATH",
        ]);
        assert_eq!(
            unknown,
            [
                (
                    "DJUST_PRESENSE_TIMEOUT".to_owned(),
                    Some("DJUST_PRESENCE_TIMEOUT".to_owned())
                ),
                ("DJUST_WHATEVER_ELSE_ENTIRELY".to_owned(), None),
            ]
        );
    }
}
