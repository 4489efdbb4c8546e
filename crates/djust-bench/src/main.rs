//! `cargo run --release -p djust-bench -- cursor-storm --rooms 1 --users 50 --hz 20 --secs 10`

fn main() -> std::process::ExitCode {
    djust_bench::main_entry()
}
