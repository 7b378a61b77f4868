import Foundation

// What `diagnoseGradients` (Diagnose.swift) found, and how it reads in a test
// failure message.

/// How one tensor's analytic gradient compared with its numerical one.
public struct CheckedGradient: Sendable {
    /// The tensor (alive as long as the diagnosis's `loss` holds its graph).
    public let id: ObjectIdentifier
    /// `` `op` [shape] `` for a recorded result, `` `name` [shape] `` for a
    /// named leaf, `leaf [shape]` otherwise.
    public let label: String
    /// The tensor's shape.
    public let shape: [Int]
    /// How many elements were compared.
    public let compared: Int
    /// How many sampled elements were left out because a kink (relu at 0)
    /// lay within the finite-difference step, where the rule matched one side.
    public let kinks: Int
    /// The element that missed its tolerance by the most (or came closest).
    public let worstIndex: [Int]
    /// The numerical gradient there.
    public let expected: Double
    /// The analytic gradient there: what the backward rules gave.
    public let got: Double
    /// Whether every compared element agreed.
    public let agrees: Bool
}

/// The first problem a diagnosis found.
public struct GradientFinding: Sendable {
    /// What kind of problem.
    public enum Kind: Sendable {
        /// A backward rule returns wrong numbers for an input.
        case wrongGradient
        /// A backward rule returns a gradient whose shape is not its input's.
        case wrongShape
        /// A backward rule returns more or fewer gradients than the op has inputs.
        case wrongCount
        /// `Tensor.record` did not record the op (exercise 6.1).
        case notRecorded
        /// The computation gives another loss (or other ops) when run again.
        case notDeterministic
        /// The loss is NaN or ±Inf: there is no slope to measure.
        case nonFiniteLoss
    }
    /// What kind of problem.
    public let kind: Kind
    /// The name of the op whose backward rule is at fault, e.g. `"mul"`.
    public let op: String
    /// The shapes of its inputs.
    public let inputShapes: [[Int]]
    /// The shape of its output.
    public let outputShape: [Int]
    /// The inputs (positions) that receive a wrong gradient.
    public let inputs: [Int]
    /// The facts behind a `wrongShape`, `wrongCount` or `notDeterministic` finding.
    public let detail: String
    /// The op's output tensor: the node of the graph drawing to blame.
    public internal(set) var faultyNode: ObjectIdentifier?
    /// The first tensor whose gradient is wrong (the input it feeds wrongly).
    public internal(set) var wrongTensor: String = ""
    /// The element of that tensor where the gradient is most wrong.
    public internal(set) var index: [Int] = []
    /// The numerical gradient there.
    public internal(set) var expected: Double = 0
    /// What the backward rule gave there.
    public internal(set) var got: Double = 0
    /// The tensors whose gradients are wrong because of this rule: that input
    /// and everything before it in the graph (after it, in the backward flow).
    public internal(set) var affected: [ObjectIdentifier] = []
    /// Their labels, in the same order.
    public internal(set) var affectedLabels: [String] = []

    init(kind: Kind, op: String, inputShapes: [[Int]], outputShape: [Int], inputs: [Int], detail: String) {
        self.kind = kind
        self.op = op
        self.inputShapes = inputShapes
        self.outputShape = outputShape
        self.inputs = inputs
        self.detail = detail
    }

    /// `` `mul` ([2, 3] × [3] → [2, 3]) ``
    public var opSummary: String {
        let shapes = inputShapes.map(shapeText).joined(separator: " × ")
        return "`\(op)` (\(shapes) → \(shapeText(outputShape)))"
    }

    /// "input 0", "inputs 0 and 1".
    var inputsText: String {
        inputs.count == 1 ? "input \(inputs[0])"
            : "inputs " + inputs.map(String.init).joined(separator: " and ")
    }
}

/// The result of `diagnoseGradients`: every tensor checked on the way back
/// from the loss, and the first problem found, if any.
public struct GradientDiagnosis: CustomStringConvertible {
    /// The loss of the first run, its graph intact (draw it with
    /// KindlingGraph; `backward()` was not called on it).
    public let loss: Tensor
    /// Its value.
    public let lossValue: Float
    /// The tensors checked, from the output back, in the order checked.
    public let checked: [CheckedGradient]
    /// The first problem, or `nil` when every gradient agrees.
    public let finding: GradientFinding?
    /// How many times the computation was run.
    public let evaluations: Int

    /// Whether every gradient agrees with its finite-difference estimate.
    public var isCorrect: Bool { finding == nil }

    /// The nodes a drawing should show in red: the op with the wrong rule
    /// and every tensor whose gradient is wrong because of it.
    public var wrongNodes: Set<ObjectIdentifier> {
        guard let finding else { return [] }
        return Set(finding.affected).union(finding.faultyNode.map { [$0] } ?? [])
    }

    /// What was found, in sentences fit for a test failure message.
    public var description: String {
        let elements = checked.reduce(0) { $0 + $1.compared }
        let effort = "\(checked.count) tensor\(checked.count == 1 ? "" : "s") checked (\(elements) elements), "
            + "\(evaluations) runs of the computation"
        guard let finding else {
            return "Every gradient agrees with its finite-difference estimate (\(effort))."
        }
        switch finding.kind {
        case .wrongGradient:
            let at = finding.index.isEmpty ? "" : " at \(shapeText(finding.index))"
            var text = "The gradient first goes wrong in \(finding.opSummary), \(finding.inputsText):\(at) expected "
                + "\(number(finding.expected)), got \(number(finding.got)) — its backward rule is wrong (the gradient of "
                + "its output, and every gradient between it and the loss, is right)."
            let rest = finding.affectedLabels.dropFirst()
            let tensor = (finding.wrongTensor.hasPrefix("leaf") ? "a " : "") + finding.wrongTensor
            text += finding.inputs.count == 1 ? "\nInput \(finding.inputs[0]) is \(tensor)"
                : "\n\(finding.inputsText.prefix(1).uppercased() + finding.inputsText.dropFirst()) are both \(tensor)"
            text += rest.isEmpty ? "; its gradient is wrong because of it."
                : "; its gradient is wrong because of it, and so is every gradient before it in the graph: "
                    + rest.prefix(8).joined(separator: ", ") + (rest.count > 8 ? ", … (\(rest.count) tensors)" : "") + "."
            return text + "\n(\(effort).)"
        case .wrongShape:
            return "The backward rule of \(finding.opSummary) is wrong: \(finding.detail). A gradient has its input's "
                + "shape; an input that was broadcast gets the output's gradient summed back (sumToShape)."
        case .wrongCount:
            return "The backward rule of \(finding.opSummary) is wrong: \(finding.detail). It returns one gradient "
                + "per input, in order (nil for an input that needs none)."
        case .notRecorded:
            return "\(finding.opSummary) was not recorded: its result has no node, so no gradient can flow "
                + "through it (Tensor.record, exercise 6.1)."
        case .notDeterministic:
            return "The computation is not the same when run again (\(finding.detail)), so finite differences "
                + "mean nothing: seed its randomness inside it, or use eval() mode."
        case .nonFiniteLoss:
            return "The loss is \(number(Double(lossValue))), so no gradient can be checked: find the op that "
                + "overflows first (an exp of a large number, a log of 0)."
        }
    }
}

/// `[2, 3]`; a scalar's shape as `[]`.
func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// A gradient value with 4 significant digits.
private func number(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return String(format: "%.4g", x)
}
