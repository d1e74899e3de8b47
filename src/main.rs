fn main() -> std::process::ExitCode {
    neuromap_cli::main()
}
