import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// `kindling diagnose`: find the backward rule that makes a gradient wrong,
/// on a small fixed graph that runs an exercise's ops, and draw it.
///
///     kindling diagnose --exercise 6.6 --out diagnosis.svg
///     KINDLING_WORKSPACE=exercises swift run kindling diagnose --exercise 6.10
///     kindling diagnose --graph softmax
///     kindling diagnose --list
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Find the backward rule that makes a gradient wrong, and draw where.",
        discussion: """
            Builds a small fixed graph that uses the ops of an exercise (or a graph you name), \
            checks the gradient of every tensor in it against finite differences, walking from \
            the loss back, and prints where the gradient first goes wrong: the op whose backward \
            rule is at fault, which input, and the worst element. The SVG shows that op and every \
            tensor whose gradient is wrong because of it in red. Run it on your own code with \
            KINDLING_WORKSPACE=exercises.
            """)

    @Option(help: "An exercise with a backward rule, e.g. 6.6 (see --list).")
    var exercise: String?

    @Option(help: "A graph by name instead: \(DiagnosisGraph.allCases.map(\.rawValue).joined(separator: ", ")).")
    var graph: DiagnosisGraph?

    @Option(help: "Where to write the drawing (.svg, or .dot/.gv for DOT text).")
    var out = "diagnosis.svg"

    @Option(help: "The most elements of each tensor to check.")
    var samples = 8

    @Flag(help: "List the exercises and the graphs that exercise them.")
    var list = false

    func validate() throws {
        if exercise != nil && graph != nil { throw ValidationError("give either --exercise or --graph, not both") }
        if let exercise, DiagnosisGraph.forExercise[exercise] == nil {
            throw ValidationError("no graph for exercise \(exercise); these have one: "
                                  + DiagnosisGraph.exercises.joined(separator: ", "))
        }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    func run() throws {
        if list {
            for id in DiagnosisGraph.exercises {
                let g = DiagnosisGraph.forExercise[id]!
                print("\(id.padding(toLength: 5, withPad: " ", startingAt: 0)) \(g.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(g.summary)")
            }
            return
        }
        let choice = graph ?? exercise.flatMap { DiagnosisGraph.forExercise[$0] } ?? .mlp
        let built = choice.build()
        let started = Date()
        let diagnosis = diagnoseGradients(names: built.names, samplesPerTensor: samples) { built.loss() }
        let elapsed = Date().timeIntervalSince(started)
        print("Graph \(choice.rawValue): \(choice.summary)")
        print(diagnosis)
        print(String(format: "(diagnosed in %.2f s)", elapsed))

        let drawing = Graph(of: diagnosis.loss, module: built.module, options: drawingOptions(diagnosis, choice))
        do {
            try drawing.write(to: out)
        } catch {
            FileHandle.standardError.write(Data("error: cannot write \(out): \(error)\n".utf8))
            throw ExitCode.failure
        }
        print(diagnosis.isCorrect ? "Wrote the graph to \(out)." : "Wrote the graph to \(out), the wrong rule and what it spoils in red.")
    }

    /// Red for the faulty op and every gradient it spoils; a note on each checked tensor.
    private func drawingOptions(_ diagnosis: GradientDiagnosis, _ choice: DiagnosisGraph) -> GraphOptions {
        var options = GraphOptions()
        options.showGradients = false  // backward() was not run: the notes say what was checked
        options.name = "kindling diagnose \(choice.rawValue)"
        options.highlight = diagnosis.wrongNodes
        options.highlightMeaning = "wrong backward rule, or gradient wrong because of it"
        for check in diagnosis.checked where check.agrees {
            options.notes[check.id] = "gradient ✓"
        }
        if let finding = diagnosis.finding {
            for id in finding.affected { options.notes[id] = "gradient ✗ (inherits the error)" }
            if let first = finding.affected.first {
                options.notes[first] = "gradient ✗ at \(finding.index): expected \(String(format: "%.4g", finding.expected)), "
                    + "got \(String(format: "%.4g", finding.got))"
            }
            if let node = finding.faultyNode {
                let which = (finding.inputs.count == 1 ? "input " : "inputs ") + finding.inputs.map(String.init).joined(separator: " and ")
                options.notes[node] = "⚠ backward rule wrong" + (finding.inputs.isEmpty ? "" : " (\(which))")
            }
            options.title = "\(choice.rawValue): the backward rule of \(finding.op) is wrong"
        } else {
            options.title = "\(choice.rawValue): every gradient agrees with finite differences"
        }
        return options
    }
}

/// The small fixed graphs `kindling diagnose` checks, each running the ops
/// of some exercises. Seeded: the same numbers on every run.
enum DiagnosisGraph: String, ExpressibleByArgument, CaseIterable {
    case mlp, tanh, softmax, linear, nll, crossEntropy = "cross-entropy"

    /// Which graph exercises each lesson-6+ exercise that a backward pass
    /// goes through: its own backward rule, or ops it is built from.
    static let forExercise: [String: DiagnosisGraph] = [
        "6.1": .mlp,       // record: every op
        "6.4": .mlp,       // sumToShape: the gradient of the broadcast bias
        "6.5": .mlp,       // backward(): not used by the diagnosis, which walks on its own
        "6.6": .mlp,       // mul
        "6.7": .softmax,   // div, broadcast
        "6.8": .tanh,      // tanh
        "6.9": .mlp,       // relu
        "6.10": .mlp,      // matmul
        "8.5": .linear,    // Linear: x·Wᵀ + b
        "8.6": .linear,    // Sequential
        "9.1": .linear,    // mseLoss
        "9.2": .nll,       // nllLoss
        "9.3": .crossEntropy,  // crossEntropy's forward row
        "9.4": .crossEntropy,  // crossEntropy's gradient
    ]

    /// The exercises of `forExercise`, in course order.
    static var exercises: [String] {
        forExercise.keys.sorted { $0.split(separator: ".").map { Int($0)! }.lexicographicallyPrecedes($1.split(separator: ".").map { Int($0)! }) }
    }

    /// One line: what the graph computes.
    var summary: String {
        switch self {
        case .mlp: return "mean((relu(x·W1 + b1)·W2 + b2 − y)²): matmul, add (broadcast), relu, sub, mul, sum, div"
        case .tanh: return "mean((tanh(x·W1 + b1)·W2 + b2 − y)²): matmul, add (broadcast), tanh, sub, mul, sum, div"
        case .softmax: return "Σ softmax(x·W + b) ⊙ c: matmul, add, exp, sum, div (broadcast), mul"
        case .linear: return "mseLoss(Sequential(Linear(5, 6), ReLU(), Linear(6, 3))(x), y)"
        case .nll: return "nllLoss(logSoftmax(relu(x·W1 + b1)·W2), labels)"
        case .crossEntropy: return "crossEntropy(relu(x·W1 + b1)·W2, labels)"
        }
    }

    /// The graph's leaves (fixed by a seed) and a function computing its loss.
    struct Built {
        let names: [String: Tensor]
        let module: Module?
        let loss: () -> Tensor
    }

    func build() -> Built {
        withSeed(6) {
            let x = Tensor.randn([4, 5]), y = Tensor.randn([4, 3])
            let labels = [2, 0, 1, 2]
            let w1 = Tensor.randn([5, 6], requiresGrad: true), b1 = Tensor.randn([6], requiresGrad: true)
            let w2 = Tensor.randn([6, 3], requiresGrad: true), b2 = Tensor.randn([3], requiresGrad: true)
            let names = ["W1": w1, "b1": b1, "W2": w2, "b2": b2]
            switch self {
            case .mlp, .tanh:
                let activation: (Tensor) -> Tensor = self == .mlp ? { $0.relu() } : { $0.tanh() }
                return Built(names: names, module: nil) {
                    let d = activation(x.matmul(w1) + b1).matmul(w2) + b2 - y
                    return (d * d).mean()
                }
            case .softmax:
                let c = Tensor.randn([4, 6])
                return Built(names: ["W": w1, "b": b1], module: nil) { ((x.matmul(w1) + b1).softmax(axis: 1) * c).sum() }
            case .linear:
                let model = Sequential(Linear(5, 6), ReLU(), Linear(6, 3))
                return Built(names: Dictionary(uniqueKeysWithValues: model.namedParameters()), module: model) {
                    mseLoss(model(x), y)
                }
            case .nll:
                return Built(names: ["W1": w1, "b1": b1, "W2": w2], module: nil) {
                    nllLoss((x.matmul(w1) + b1).relu().matmul(w2).logSoftmax(axis: 1), labels)
                }
            case .crossEntropy:
                return Built(names: ["W1": w1, "b1": b1, "W2": w2], module: nil) {
                    Kindling.crossEntropy((x.matmul(w1) + b1).relu().matmul(w2), labels)
                }
            }
        }
    }
}
