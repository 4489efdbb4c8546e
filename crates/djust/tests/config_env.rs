//! Without `.config(...)` the builder reads `DJUST_*` itself: a bad value fails the build naming
//! the variable, and an unknown `DJUST_*` name is warned about at start-up.
//!
//! Each case runs this test binary again as a child with its own environment (`set_var` in a
//! multi-threaded test process would race).

use std::process::Command;

use djust::{Context, Djust, LiveView, MountRequest, Socket, ViewError};

struct Hello;

impl LiveView for Hello {
    const TEMPLATE: &'static str = "hello.html";

    async fn mount(_req: &MountRequest, _socket: &mut Socket) -> Result<Self, ViewError> {
        Ok(Hello)
    }

    fn get_context_data(&self, _socket: &Socket) -> Result<Context, ViewError> {
        Ok(Context::new())
    }
}

#[djust::event_handlers]
impl Hello {}

const CHILD_VAR: &str = "DJUST_TESTKIT_CHILD";

/// In the child: builds a router without `.config` and prints the outcome.
#[tokio::test]
async fn child_builds_without_config() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let built = Djust::builder()
        .templates_embedded([("hello.html", "<p>hi</p>")])
        .live::<Hello>("/")
        .into_router();
    match built {
        Ok(_) => println!("CHILD: built"),
        Err(e) => println!("CHILD: error: {e}"),
    }
}

fn child(env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("own test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "child_builds_without_config", "--nocapture"])
        .env(CHILD_VAR, "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("DJUST_") && name != CHILD_VAR {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run the child");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_bad_djust_variable_fails_the_build_naming_it() {
    let out = child(&[("DJUST_PRESENCE_BACKEND", "bogus")]);
    assert!(out.contains("CHILD: error:"), "{out}");
    assert!(out.contains("DJUST_PRESENCE_BACKEND"), "{out}");
    let out = child(&[("DJUST_TICK_MS", "fast")]);
    assert!(
        out.contains("CHILD: error:") && out.contains("DJUST_TICK_MS"),
        "{out}"
    );
}

#[test]
fn good_variables_are_used_and_unknown_ones_warned_about() {
    let out = child(&[]);
    assert!(out.contains("CHILD: built"), "{out}");
    assert!(!out.contains("is not a djust setting"), "{out}");
    let out = child(&[("DJUST_PRESENSE_TIMEOUT", "30"), ("DJUST_TICK", "0.02")]);
    assert!(out.contains("CHILD: built"), "{out}");
    assert!(
        out.contains("DJUST_PRESENSE_TIMEOUT is not a djust setting")
            && out.contains("did you mean DJUST_PRESENCE_TIMEOUT?"),
        "{out}"
    );
    assert!(
        !out.contains("DJUST_TICK "),
        "a known name is not warned about: {out}"
    );
}
