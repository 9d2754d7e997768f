fn main() {
    std::process::exit(mutualsg::cli::main().code());
}
