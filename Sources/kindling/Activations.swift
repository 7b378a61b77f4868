import ArgumentParser
import Foundation
import Kindling
import KindlingGraph

/// `kindling activations`: the figure of lesson 12 — how the spread of each
/// layer's output grows, shrinks or holds in five deep ReLU networks.
struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Measure each layer's output in five deep ReLU networks (bad, default and Kaiming initialization, and batch norm) and draw the standard deviations as SVG.")

    @Option(help: "Write the chart to this SVG file.")
    var out: String = "activations.svg"

    @Option(help: "Blocks of Linear (+ BatchNorm1d) + ReLU.")
    var depth = 20

    @Option(help: "Features per layer, and examples in the batch.")
    var width = 256

    @Option(help: "Random seed for the weights and the batch.")
    var seed: UInt64 = 0

    func validate() throws {
        if depth < 1 { throw ValidationError("--depth must be at least 1") }
        if width < 2 { throw ValidationError("--width must be at least 2") }
    }

    /// `depth` blocks of Linear(width, width) (+ BatchNorm1d) + ReLU, the weights drawn by `weight`, the biases 0.
    func deepMLP(batchNorm: Bool, weight: ([Int]) -> Tensor) -> Sequential {
        var layers: [Module] = []
        for _ in 0..<depth {
            let linear = Linear(width, width)
            noGrad {
                linear.weight.assign(weight(linear.weight.shape))
                linear.bias?.assign(Tensor.zeros([width]))
            }
            layers.append(linear)
            if batchNorm { layers.append(BatchNorm1d(width)) }
            layers.append(ReLU())
        }
        return Sequential(layers)
    }

    func run() throws {
        // The same networks, in the same order, as the lesson's worked example.
        manualSeed(seed)
        let x = Tensor.randn([width, width])
        let models: [(String, Sequential)] = [
            ("N(0, 1)", deepMLP(batchNorm: false) { Tensor.randn($0) }),
            ("N(0, 0.01²)", deepMLP(batchNorm: false) { Tensor.randn($0) * 0.01 }),
            ("default a=√5", deepMLP(batchNorm: false) { Init.kaimingUniform($0, a: Float(5).squareRoot()) }),
            ("Kaiming a=0", deepMLP(batchNorm: false) { Init.kaimingUniform($0) }),
            ("N(0, 1) + BN", deepMLP(batchNorm: true) { Tensor.randn($0) }),
        ]
        let series = models.map { name, model in
            ActivationChart.Series(name: name, statistics: activationStatistics(of: model, on: x).filter { $0.layer == "ReLU" })
        }
        for s in series {
            let stds = s.statistics.map(\.std)
            print(s.name.padding(toLength: 14, withPad: " ", startingAt: 0),
                  "std after block 1:", String(format: "%.3g", stds.first ?? .nan),
                  " after block \(depth):", String(format: "%.3g", stds.last ?? .nan))
        }
        let chart = ActivationChart(title: "The spread of each block's output, \(depth) blocks of width \(width)",
                                    xLabel: "block (Linear + ReLU)", series: series)
        try Data(chart.svg().utf8).write(to: URL(fileURLWithPath: out))
        print("Wrote \(out)")
    }
}
