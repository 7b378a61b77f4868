import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// `kindling graph`: draw the autograd graph of one training step, or render
/// a DOT file, to SVG.
///
///     kindling graph --model mlp --out mlp.svg            # every op, parameters named
///     kindling graph --model cnn --collapse --out cnn.svg  # one box per layer
///     kindling graph --dot in.dot --out out.svg            # any DOT file
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the autograd graph of one training step (or render a DOT file) as SVG.",
        discussion: """
            With --model, builds the model, runs one SGD step on a small Fashion-MNIST batch \
            (a seeded random batch if the dataset is missing) and draws the loss's graph: \
            operations grouped by module, parameters by name with their gradient norms, \
            NaN/Inf in red. With --dot, renders the given DOT file instead. An --out path \
            ending in .dot or .gv gets the DOT text rather than SVG.
            """)

    @Option(help: "The model to draw: mlp or cnn (default: mlp).")
    var model: BuiltinModel?

    @Option(help: "Render this DOT file instead of drawing a model.")
    var dot: String?

    @Option(help: "Where to write the drawing (.svg, or .dot/.gv for DOT text).")
    var out = "graph.svg"

    @Flag(help: "Draw each layer as one box instead of every operation.")
    var collapse = false

    @Option(help: "The most nodes to draw; the rest become one \"N more nodes\" placeholder.")
    var maxNodes = 400

    @Option(help: "Direction of the drawing: TB, LR, BT or RL.")
    var rankdir = "TB"

    @Option(help: "Examples in the batch of the training step.")
    var batchSize = 8

    @Option(help: "Random seed for initialization (and the fallback batch).")
    var seed: UInt64 = 0

    @Option(help: "Directory holding the Fashion-MNIST files (default: $KINDLING_FASHION_MNIST or /usr/share/datasets/fashion-mnist).")
    var data: String?

    func validate() throws {
        if dot != nil && model != nil { throw ValidationError("give either --model or --dot, not both") }
        if maxNodes < 1 { throw ValidationError("--max-nodes must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if RankDirection(rawValue: rankdir.uppercased()) == nil {
            throw ValidationError("--rankdir must be one of TB, LR, BT, RL")
        }
    }

    func run() throws {
        do {
            if let dot {
                try renderFile(dot)
            } else {
                try drawTrainingStep(model ?? .mlp)
            }
        } catch let error as GraphvizError {
            fail("\(error)")
        } catch let error as CocoaError {
            fail(error.localizedDescription)
        }
    }

    /// `--dot`: DOT file in, SVG out.
    private func renderFile(_ path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            fail("cannot read \(path): \(error.localizedDescription)")
        }
        let started = Date()
        let svg = try Graphviz.renderSVG(dot: text)
        try write(svg, to: out)
        print("Rendered \(path) → \(out) (\(svg.count) bytes) in \(seconds(since: started)).")
    }

    /// `--model`: one training step, then the drawing of its loss.
    private func drawTrainingStep(_ choice: BuiltinModel) throws {
        manualSeed(seed)
        let net = choice.make()
        let (inputs, labels, source) = trainingBatch()
        let optimizer = SGD(parameters: net.parameters(), learningRate: 0.05, momentum: 0.9)

        optimizer.zeroGrad()
        let loss = crossEntropy(net(inputs), labels)
        loss.backward()
        optimizer.step()  // the gradients stay in `grad`, so the drawing shows the ones this step used

        var options = GraphOptions()
        options.collapseModules = collapse
        options.maxNodes = maxNodes
        options.rankdir = RankDirection(rawValue: rankdir.uppercased())
        options.name = "kindling \(choice.rawValue)"
        options.title = "\(choice.rawValue): one SGD step on \(labels.count) \(source) images, loss \(String(format: "%.4f", loss.item()))"

        let started = Date()
        let graph = Graph(of: loss, module: net, options: options)
        let isDOT = ["dot", "gv"].contains(URL(fileURLWithPath: out).pathExtension.lowercased())
        let bytes = isDOT ? Data(graph.dot.utf8) : try graph.svg()
        let elapsed = seconds(since: started)
        try write(bytes, to: out)
        let elided = graph.elidedCount > 0 ? " (\(graph.elidedCount) more not drawn; raise --max-nodes)" : ""
        print("Drew \(graph.nodeCount - graph.elidedCount) of \(graph.nodeCount) nodes\(elided) for \(choice.rawValue), "
              + "loss \(String(format: "%.4f", loss.item())) → \(out) (\(bytes.count) bytes) in \(elapsed).")
    }

    /// The first `batchSize` Fashion-MNIST test images, or — if the dataset
    /// is not installed — a seeded random batch of the same shape.
    private func trainingBatch() -> (Tensor, [Int], String) {
        do {
            let test = try FashionMNIST.load(.test, directory: data)
            let batch = test.batch(Array(0..<min(batchSize, test.count)))
            return (batch.inputs, batch.labels, "Fashion-MNIST")
        } catch {
            FileHandle.standardError.write(Data("note: Fashion-MNIST not available, using a random batch (\(error))\n".utf8))
            let inputs = Tensor.rand([batchSize, 1, 28, 28])
            var generator = SeededGenerator(seed: seed)
            let labels = (0..<batchSize).map { _ in Int.random(in: 0..<10, using: &generator) }
            return (inputs, labels, "random")
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            fail("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func seconds(since start: Date) -> String {
        String(format: "%.3f s", Date().timeIntervalSince(start))
    }

    /// Prints `error: message` to standard error and exits with status 1.
    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Self.exit(withError: ExitCode.failure)
    }
}
