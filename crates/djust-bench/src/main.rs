//! `cargo run --release -p djust-bench -- cursor-storm --rooms 1 --users 50 --hz 20 --secs 10`

// The same allocator as the collab binary, so `djust-bench serve` measures what it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    djust_bench::main_entry()
}
