// Activation statistics, layer by layer (lesson 12).
//
// Whether a deep network can train shows before it trains: feed it one batch
// and look at the mean and standard deviation of what each layer puts out.
// With a good initialization (or normalization layers) the spread stays near
// 1 all the way down; with weights too large it grows layer after layer, and
// with weights too small it shrinks towards 0 — and the gradients follow.

import Foundation

/// The mean and standard deviation of one layer's output.
public struct ActivationStatistics: Sendable, Equatable, CustomStringConvertible {
    /// The layer's position in the `Sequential`, from 0.
    public let index: Int
    /// The layer's type name, e.g. `"Linear"` or `"BatchNorm1d"`.
    public let layer: String
    /// The shape of the layer's output.
    public let shape: [Int]
    /// The mean of every element of the output.
    public let mean: Double
    /// The standard deviation of every element of the output (divided by n, not n − 1).
    public let std: Double

    /// A statistics record.
    public init(index: Int, layer: String, shape: [Int], mean: Double, std: Double) {
        self.index = index
        self.layer = layer
        self.shape = shape
        self.mean = mean
        self.std = std
    }

    /// `"3 ReLU [64, 100]: mean 0.21, std 0.33"`, to four significant digits.
    public var description: String {
        "\(index) \(layer) \(shape): mean \(fourDigits(mean)), std \(fourDigits(std))"
    }
}

/// `x` rounded to four significant digits, for printing.
private func fourDigits(_ x: Double) -> String {
    guard x.isFinite, x != 0 else { return "\(x)" }
    let scale = pow(10, 3 - (log10(abs(x))).rounded(.down))
    return "\(Float((x * scale).rounded() / scale))"
}

/// The mean and standard deviation of each layer's output when `input` goes
/// through `model`: entry i describes `model.layers[i]`'s output, which is
/// layer i + 1's input. Runs without recording a graph (`noGrad`), in the
/// model's current mode: call `model.eval()` first to see what evaluation
/// sees. In training mode a batch-norm layer normalizes by the batch and
/// updates its running statistics, as in a training step.
public func activationStatistics(of model: Sequential, on input: Tensor) -> [ActivationStatistics] {
    // BEGIN EXERCISE 12.6 — the mean and spread of every layer's output (Lessons/12-normalization.md)
    return noGrad {
        var h = input
        var statistics: [ActivationStatistics] = []
        for (index, layer) in model.layers.enumerated() {
            h = layer(h)
            // Two passes in Double: the mean, then the squared distances from it.
            let values = h.toArray()
            let n = Double(Swift.max(values.count, 1))
            let mean = values.reduce(0.0) { $0 + Double($1) } / n
            let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            statistics.append(ActivationStatistics(index: index, layer: String(describing: type(of: layer)),
                                                   shape: h.shape, mean: mean, std: variance.squareRoot()))
        }
        return statistics
    }
    // END EXERCISE 12.6
}
