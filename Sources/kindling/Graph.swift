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

    @Option(help: "The model to draw: mlp, convnet or cnn on Fashion-MNIST; charlstm or gpt on random character windows (default: mlp).")
    var model: ModelChoice?

    @Option(help: "Render this DOT file instead of drawing a model.")
    var dot: String?

    @Option(help: "Where to write the drawing (.svg, or .dot/.gv for DOT text).")
    var out = "graph.svg"

    @Flag(help: "Draw each layer as one box instead of every operation.")
    var collapse = false

    @Option(help: "With --collapse: how deep the boxes are (1: the model's own layers; 2: their parts, e.g. a transformer block's attention and MLP).")
    var collapseDepth = 1

    @Option(help: "charlstm, gpt: characters per window (an unrolled LSTM draws one step per character).")
    var context = 8

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
        if context < 1 { throw ValidationError("--context must be at least 1") }
        if collapseDepth < 0 { throw ValidationError("--collapse-depth must be at least 0") }
        if RankDirection(rawValue: rankdir.uppercased()) == nil {
            throw ValidationError("--rankdir must be one of TB, LR, BT, RL")
        }
    }

    func run() throws {
        do {
            if let dot {
                try renderFile(dot)
            } else {
                try drawTrainingStep(model ?? .image(.mlp))
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
    private func drawTrainingStep(_ choice: ModelChoice) throws {
        manualSeed(seed)
        let net: Module, name: String, what: String, loss: () -> Tensor
        switch choice {
        case .image(let image):
            net = image.make()
            let (inputs, labels, source) = trainingBatch()
            (name, what) = (image.rawValue, "\(labels.count) \(source) images")
            loss = { crossEntropy(net(inputs), labels) }
        case .text(let kind):
            let vocabulary = 113  // the fortunes corpus's characters
            net = kind.make(vocabulary: vocabulary, context: context)
            var generator = SeededGenerator(seed: seed)
            let ids = (0..<batchSize * (context + 1)).map { _ in Float(generator.next(upperBound: UInt64(vocabulary))) }
            let windows = Tensor(ids, shape: [batchSize, context + 1])
            let batch = Batch(inputs: windows.sliced(axis: 1, from: 0, to: context).contiguous(),
                              targets: windows.sliced(axis: 1, from: 1).contiguous())
            (name, what) = (kind.rawValue, "\(batchSize) random windows of \(context) characters")
            loss = { nextCharacterLoss(net, batch) }
        }
        let optimizer = SGD(parameters: net.parameters(), learningRate: 0.05, momentum: 0.9)
        optimizer.zeroGrad()
        let value = loss()
        value.backward()
        optimizer.step()  // the gradients stay in `grad`, so the drawing shows the ones this step used

        var options = GraphOptions()
        options.collapseModules = collapse
        options.collapseDepth = collapseDepth
        options.maxNodes = maxNodes
        options.rankdir = RankDirection(rawValue: rankdir.uppercased())
        options.name = "kindling \(name)"
        options.title = "\(name): one SGD step on \(what), loss \(String(format: "%.4f", value.item()))"

        let started = Date()
        let graph = Graph(of: value, module: net, options: options)
        let isDOT = ["dot", "gv"].contains(URL(fileURLWithPath: out).pathExtension.lowercased())
        let bytes = isDOT ? Data(graph.dot.utf8) : try graph.svg()
        let elapsed = seconds(since: started)
        try write(bytes, to: out)
        let elided = graph.elidedCount > 0 ? " (\(graph.elidedCount) more not drawn; raise --max-nodes)" : ""
        print("Drew \(graph.nodeCount - graph.elidedCount) of \(graph.nodeCount) nodes\(elided) for \(name), "
              + "loss \(String(format: "%.4f", value.item())) → \(out) (\(bytes.count) bytes) in \(elapsed).")
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
