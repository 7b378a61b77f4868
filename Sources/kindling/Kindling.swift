import ArgumentParser

/// The `kindling` command: train models, sample text, benchmark the library, draw and diagnose graphs.
@main
struct KindlingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kindling",
        abstract: "Kindling — a small deep-learning framework in Swift.",
        subcommands: [Train.self, Eval.self, SampleCommand.self, Bench.self, GraphCommand.self, DiagnoseCommand.self, ActivationsCommand.self],
        defaultSubcommand: Train.self
    )
}
