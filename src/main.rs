//! The `guardroom` binary; everything lives in the library (see `lib.rs`).

fn main() -> std::process::ExitCode {
    guardroom::cli::main()
}
