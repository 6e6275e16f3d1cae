//! The `cc-ci` binary: a thin shell over the library. All logic lives in `cc_ci`.

fn main() -> std::process::ExitCode {
    cc_ci::cli::main()
}
