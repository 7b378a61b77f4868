import Foundation
import Kindling
import Testing

// Tests of `diagnoseGradients`: a correct graph has no finding; a deliberately
// wrong backward rule (an op of our own, through `Tensor.record`) is named,
// with its input, its worst element and the tensors it spoils — alone, deep in
// an MLP, among several readers of one tensor, behind views.

/// 2x, whose backward rule says 3.
private func doubledWrongly(_ x: Tensor) -> Tensor {
    let y = noGrad { x * 2 }
    return Tensor.record(y, op: "double", inputs: [x]) { g in [g * 3] }
}

/// softplus(x) = log(1 + eˣ), whose derivative is σ(x); this rule forgets
/// the denominator and says eˣ.
private func softplusWrongly(_ x: Tensor) -> Tensor {
    let y = noGrad { (x.exp() + 1).log() }
    return Tensor.record(y, op: "softplus", inputs: [x]) { g in [g * x.exp()] }
}

/// a·b (broadcast) whose rule returns the second input's gradient without
/// summing it back to its shape.
private func mulForgettingToUnbroadcast(_ a: Tensor, _ b: Tensor) -> Tensor {
    let y = noGrad { a * b }
    return Tensor.record(y, op: "mul", inputs: [a, b]) { g in [g * b, g * a] }
}

/// A small MLP-shaped loss: x·W1 + b1 → activation → ·W2 + b2 → squared error.
private struct SmallMLP {
    let x: Tensor, target: Tensor
    let w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor
    var names: [String: Tensor] { ["W1": w1, "b1": b1, "W2": w2, "b2": b2] }

    init(seed: UInt64, batch: Int = 8, inputs: Int = 6, hidden: Int = 16, outputs: Int = 4) {
        // Weights scaled by 1/√fan-in, so activations stay near 1 at any size.
        func parameter(_ shape: [Int], fanIn: Int) -> Tensor {
            let p = Tensor(Tensor.randn(shape).toArray().map { $0 / Float(fanIn).squareRoot() }, shape: shape)
            p.requiresGrad = true
            return p
        }
        (x, target, w1, b1, w2, b2) = withSeed(seed) {
            (Tensor.randn([batch, inputs]), Tensor.randn([batch, outputs]),
             parameter([inputs, hidden], fanIn: inputs), parameter([hidden], fanIn: 1),
             parameter([hidden, outputs], fanIn: hidden), parameter([outputs], fanIn: 1))
        }
    }

    func loss(activation: (Tensor) -> Tensor = { $0.relu() }) -> Tensor {
        let h = activation(x.matmul(w1) + b1)
        let d = h.matmul(w2) + b2 - target
        return (d * d).mean()
    }
}

@Suite("diagnoseGradients") struct DiagnoseTests {
    @Test func aCorrectGraphHasNoFinding() {
        // relu's kinks at 0 fall within the finite-difference step of some
        // elements: they must not be taken for bugs. (Checked on 200 seeds
        // with 64 elements per tensor, relu and tanh: no false finding.)
        for seed in 0..<10 as Range<UInt64> {
            let mlp = SmallMLP(seed: seed)
            let diagnosis = diagnoseGradients(names: mlp.names, samplesPerTensor: 16) { mlp.loss() }
            #expect(diagnosis.isCorrect, "seed \(seed): \(diagnosis)")
            #expect(diagnosis.checked.count == 12, "W1, b1, W2, b2 and 8 results of ops: \(diagnosis.checked.map(\.label))")
            #expect(diagnosis.description.hasPrefix("Every gradient agrees"))
            let smooth = diagnoseGradients(names: mlp.names) { mlp.loss(activation: { $0.tanh() }) }
            #expect(smooth.isCorrect, "tanh, seed \(seed): \(smooth)")
        }
    }

    @Test func aWrongRuleOnItsOwnIsNamed() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let diagnosis = diagnoseGradients { (doubledWrongly(x) * x).sum() }
        let finding = try! #require(diagnosis.finding, "\(diagnosis)")
        #expect(finding.kind == .wrongGradient && finding.op == "double" && finding.inputs == [0], "\(diagnosis)")
        #expect(finding.inputShapes == [[2, 3]] && finding.outputShape == [2, 3])
        // ∂Σ(2x·x)/∂x = 4x; the rule gives 3x + 2x = 5x. The worst element is the largest, x = 6 at [1, 2].
        #expect(finding.index == [1, 2], "\(diagnosis)")
        #expect(Swift.abs(finding.expected - 24) < 0.05 && Swift.abs(finding.got - 30) < 1e-4, "\(diagnosis)")
        #expect(diagnosis.description.hasPrefix(
            "The gradient first goes wrong in `double` ([2, 3] → [2, 3]), input 0: at [1, 2] expected 24"), "\(diagnosis)")
        #expect(finding.affectedLabels == ["leaf [2, 3]"])
        #expect(x.grad == nil, "the diagnosis never touches leaves' gradients")
    }

    @Test func aWrongRuleDeepInAnMLPIsNamedAndWhatItSpoilsIsListed() {
        let mlp = SmallMLP(seed: 3)
        let before = [mlp.w1, mlp.b1, mlp.w2, mlp.b2].map { $0.toArray() }
        let diagnosis = diagnoseGradients(names: mlp.names) { mlp.loss(activation: softplusWrongly) }
        let finding = try! #require(diagnosis.finding, "\(diagnosis)")
        #expect(finding.op == "softplus" && finding.inputs == [0] && finding.inputShapes == [[8, 16]], "\(diagnosis)")
        #expect(finding.wrongTensor == "`add` [8, 16]", "\(diagnosis)")
        #expect(Set(finding.affectedLabels) == ["`add` [8, 16]", "`matmul` [8, 16]", "`W1` [6, 16]", "`b1` [16]"],
                "\(finding.affectedLabels)")
        let right = Set(diagnosis.checked.filter(\.agrees).map(\.label))
        #expect(right.isSuperset(of: ["`W2` [16, 4]", "`b2` [4]", "`softplus` [8, 16]"]), "\(right)")
        #expect(diagnosis.wrongNodes.count == 5, "the softplus node and the four tensors it spoils")
        #expect([mlp.w1, mlp.b1, mlp.w2, mlp.b2].map { $0.toArray() } == before, "leaves are put back bit for bit")
    }

    @Test func amongSeveralReadersTheWrongOneIsBlamed() {
        let x = Tensor([0.5, -1, 2, 0.25], requiresGrad: true)
        let diagnosis = diagnoseGradients { (x.exp() + doubledWrongly(x) + x.tanh()).sum() }
        #expect(diagnosis.finding?.op == "double", "x is read by exp, double and tanh; double's rule is wrong:\n\(diagnosis)")
    }

    @Test func viewsAreCheckedThroughCopies() {
        // Transposes and reshapes share storage with their inputs: the perturbed
        // copy must not leak into the input, or these would look wrong.
        let w = withSeed(1) { Tensor.randn([4, 3], requiresGrad: true) }
        let x = withSeed(2) { Tensor.randn([2, 4]) }
        let diagnosis = diagnoseGradients {
            let y = x.matmul(w.transposed().transposed()).reshaped([3, 2]).tanh()
            return (y * w.sliced(axis: 0, from: 0, step: 2).reshaped([3, 2])).sum()
        }
        #expect(diagnosis.isCorrect, "\(diagnosis)")
    }

    @Test func aGradientOfTheWrongShapeIsReported() {
        let a = Tensor.ones([2, 3], requiresGrad: true), b = Tensor([1, 2, 3], requiresGrad: true)
        let diagnosis = diagnoseGradients { mulForgettingToUnbroadcast(a, b).sum() }
        #expect(diagnosis.finding?.kind == .wrongShape && diagnosis.finding?.inputs == [1], "\(diagnosis)")
        #expect(diagnosis.description.contains("shape [2, 3] for input 1, of shape [3]"), "\(diagnosis)")
    }

    @Test func aComputationThatChangesIsReported() {
        let x = Tensor([1, 2], requiresGrad: true)
        let diagnosis = diagnoseGradients { (x * Tensor.randn([2])).sum() }
        #expect(diagnosis.finding?.kind == .notDeterministic, "\(diagnosis)")
    }

    @Test func aLossThatOverflowsIsReported() {
        let x = Tensor([100, 200], requiresGrad: true)
        let diagnosis = diagnoseGradients { x.exp().sum() }
        #expect(diagnosis.finding?.kind == .nonFiniteLoss && diagnosis.description.hasPrefix("The loss is inf"), "\(diagnosis)")
    }

    @Test func anMLPSizedGraphIsQuick() {
        let mlp = SmallMLP(seed: 0, batch: 64, inputs: 784, hidden: 128, outputs: 10)
        let start = Date()
        let good = diagnoseGradients(names: mlp.names) { mlp.loss() }
        let bad = diagnoseGradients(names: mlp.names) { mlp.loss(activation: softplusWrongly) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(good.isCorrect, "\(good)")
        #expect(bad.finding?.op == "softplus", "\(bad)")
        print("diagnoseGradients, 784-128-10 MLP, batch 64: \(good.evaluations) + \(bad.evaluations) runs in \(String(format: "%.2f", elapsed)) s")
        #expect(elapsed < 60)
    }
}
