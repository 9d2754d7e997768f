// mimalloc: a module with 100,000 connections makes millions of small allocations, and the
// system allocator spent a third of `generate`'s time on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(mutualsg::commands::main().code());
}
