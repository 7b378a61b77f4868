import Foundation
import Kindling
import Testing

// Tests of the scalar autograd engine `Value` (lesson 1).

/// |a − b| ≤ tolerance.
private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= tolerance
}

/// Central finite difference of `f` at `x`, in Double.
private func numericalDerivative(at x: Double, _ f: (Value) -> Value) -> Double {
    let h = 1e-6
    return (f(Value(x + h)).data - f(Value(x - h)).data) / (2 * h)
}

/// One single-input operation with its hand-computed value and derivative.
struct UnaryValueCase: Sendable, CustomTestStringConvertible {
    let name: String
    let x: Double
    let expectedData: Double
    let expectedGrad: Double
    let f: @Sendable (Value) -> Value
    var testDescription: String { "\(name) at \(x)" }
}

/// One two-input operation with its hand-computed value and derivatives.
struct BinaryValueCase: Sendable, CustomTestStringConvertible {
    let name: String
    let a: Double, b: Double
    let expectedData: Double
    let expectedGradA: Double, expectedGradB: Double
    let f: @Sendable (Value, Value) -> Value
    var testDescription: String { "\(name)(\(a), \(b))" }
}

private let unaryValueCases: [UnaryValueCase] = [
    .init(name: "neg", x: 3, expectedData: -3, expectedGrad: -1) { -$0 },
    .init(name: "pow(2)", x: 3, expectedData: 9, expectedGrad: 6) { $0.pow(2) },
    .init(name: "pow(3)", x: -2, expectedData: -8, expectedGrad: 12) { $0.pow(3) },
    .init(name: "pow(0.5)", x: 4, expectedData: 2, expectedGrad: 0.25) { $0.pow(0.5) },
    .init(name: "pow(-1)", x: 2, expectedData: 0.5, expectedGrad: -0.25) { $0.pow(-1) },
    .init(name: "exp", x: 0, expectedData: 1, expectedGrad: 1) { $0.exp() },
    .init(name: "exp", x: 1, expectedData: M_E, expectedGrad: M_E) { $0.exp() },
    .init(name: "log", x: M_E, expectedData: 1, expectedGrad: 1 / M_E) { $0.log() },
    .init(name: "log", x: 1, expectedData: 0, expectedGrad: 1) { $0.log() },
    .init(name: "tanh", x: 0, expectedData: 0, expectedGrad: 1) { $0.tanh() },
    .init(name: "tanh", x: 0.5, expectedData: 0.46211715726000974, expectedGrad: 1 - 0.46211715726000974 * 0.46211715726000974) { $0.tanh() },
    .init(name: "tanh", x: -0.5, expectedData: -0.46211715726000974, expectedGrad: 1 - 0.46211715726000974 * 0.46211715726000974) { $0.tanh() },
    .init(name: "relu", x: 2, expectedData: 2, expectedGrad: 1) { $0.relu() },
    .init(name: "relu", x: -2, expectedData: 0, expectedGrad: 0) { $0.relu() },
    .init(name: "relu", x: 0, expectedData: 0, expectedGrad: 0) { $0.relu() },
    .init(name: "value + 2", x: 3, expectedData: 5, expectedGrad: 1) { $0 + 2 },
    .init(name: "2 + value", x: 3, expectedData: 5, expectedGrad: 1) { 2 + $0 },
    .init(name: "value - 2", x: 3, expectedData: 1, expectedGrad: 1) { $0 - 2 },
    .init(name: "2 - value", x: 3, expectedData: -1, expectedGrad: -1) { 2 - $0 },
    .init(name: "value * 2", x: 3, expectedData: 6, expectedGrad: 2) { $0 * 2 },
    .init(name: "2 * value", x: 3, expectedData: 6, expectedGrad: 2) { 2 * $0 },
    .init(name: "value / 2", x: 3, expectedData: 1.5, expectedGrad: 0.5) { $0 / 2 },
    .init(name: "2 / value", x: 4, expectedData: 0.5, expectedGrad: -0.125) { 2 / $0 },
]

private let binaryValueCases: [BinaryValueCase] = [
    .init(name: "+", a: 2, b: -3, expectedData: -1, expectedGradA: 1, expectedGradB: 1) { $0 + $1 },
    .init(name: "-", a: 2, b: -3, expectedData: 5, expectedGradA: 1, expectedGradB: -1) { $0 - $1 },
    .init(name: "*", a: 2, b: -3, expectedData: -6, expectedGradA: -3, expectedGradB: 2) { $0 * $1 },
    .init(name: "/", a: 3, b: 2, expectedData: 1.5, expectedGradA: 0.5, expectedGradB: -0.75) { $0 / $1 },
    // (a·b + a)·b = a·b² + a·b: ∂/∂a = b² + b, ∂/∂b = 2ab + a.
    .init(name: "(a*b + a)*b", a: 2, b: 3, expectedData: 24, expectedGradA: 12, expectedGradB: 14) { ($0 * $1 + $0) * $1 },
]

@Suite("Value — scalar autograd (lesson 1)")
struct ValueTests {
    @Test func leafHoldsItsNumber() {
        let v = Value(2, label: "w")
        #expect(v.data == 2)
        #expect(v.grad == 0)
        #expect(v.isLeaf)
        #expect(v.inputs.isEmpty)
        #expect(v.op == "")
        #expect(v.label == "w")
        #expect(v.description == "Value(data: 2.0, grad: 0.0)")
        #expect(Value(-4.5).description == "Value(data: -4.5, grad: 0.0)")
    }

    @Test func resultsRecordTheirInputsAndOp() {
        let a = Value(2), b = Value(3)
        let c = a * b
        #expect(c.op == "*")
        #expect(c.inputs.count == 2)
        #expect(c.inputs[0] === a && c.inputs[1] === b)
        #expect(c.localGrads == [3, 2])
        #expect(!c.isLeaf)
        #expect((a + b).op == "+")
        #expect((a - b).op == "-")
        #expect((a / b).op == "/")
        #expect((-a).op == "neg")
        #expect(a.tanh().op == "tanh")
        #expect(a.exp().op == "exp")
        #expect(a.log().op == "log")
        #expect(a.relu().op == "relu")
        #expect(a.pow(2).op.hasPrefix("pow"))
        // A plain number becomes a constant leaf input.
        let d = a + 5
        #expect(d.inputs.count == 2)
        #expect(d.inputs[1].data == 5 && d.inputs[1].isLeaf)
    }

    @Test(arguments: unaryValueCases)
    func unaryOperation(_ c: UnaryValueCase) {
        let x = Value(c.x)
        let y = c.f(x)
        #expect(close(y.data, c.expectedData, 1e-12), "\(c.name): value \(y.data), expected \(c.expectedData)")
        y.backward()
        #expect(close(x.grad, c.expectedGrad, 1e-12), "\(c.name): grad \(x.grad), expected \(c.expectedGrad)")
        #expect(y.grad == 1)
        if c.name != "relu" || c.x != 0 {  // relu has a kink at 0
            let numerical = numericalDerivative(at: c.x, c.f)
            #expect(close(x.grad, numerical, 1e-6), "\(c.name): autograd \(x.grad), finite differences \(numerical)")
        }
    }

    @Test(arguments: binaryValueCases)
    func binaryOperation(_ c: BinaryValueCase) {
        let a = Value(c.a), b = Value(c.b)
        let y = c.f(a, b)
        #expect(close(y.data, c.expectedData))
        y.backward()
        #expect(close(a.grad, c.expectedGradA), "∂\(c.name)/∂a = \(a.grad), expected \(c.expectedGradA)")
        #expect(close(b.grad, c.expectedGradB), "∂\(c.name)/∂b = \(b.grad), expected \(c.expectedGradB)")
    }

    /// micrograd's `test_sanity_check` (values from PyTorch).
    @Test func microgradSanityCheck() {
        let x = Value(-4)
        let z = 2 * x + 2 + x
        let q = z.relu() + z * x
        let h = (z * z).relu()
        let y = h + q + q * x
        y.backward()
        #expect(close(y.data, -20))
        #expect(close(x.grad, 46))
    }

    /// The example in micrograd's README: g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773.
    @Test func microgradReadmeExample() {
        let a = Value(-4), b = Value(2)
        var c = a + b
        var d = a * b + b.pow(3)
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        let e = c - d
        let f = e.pow(2)
        var g = f / 2.0
        g = g + 10.0 / f
        #expect(close(g.data, 24.70408163265306, 1e-9))
        g.backward()
        #expect(close(a.grad, 138.83381924198252, 1e-9))
        #expect(close(b.grad, 645.5772594752186, 1e-9))
    }

    @Test func reusedValuesCollectEveryPath() {
        let a = Value(3)
        let sum = a + a
        sum.backward()
        #expect(a.grad == 2)

        let b = Value(3)
        let square = b * b
        square.backward()
        #expect(b.grad == 6)

        // a diamond: c = b², d = c + c  ⇒ ∂d/∂b = 4b
        let x = Value(-1.5)
        let c = x * x
        let d = c + c
        d.backward()
        #expect(x.grad == -6)
        #expect(c.grad == 2)
    }

    @Test func leafGradientsAccumulateAcrossBackwardCalls() {
        let a = Value(2), b = Value(-3)
        let c = a * b
        let y = c.tanh()
        y.backward()
        let (ga, gb, gc) = (a.grad, b.grad, c.grad)
        y.backward()
        #expect(close(a.grad, 2 * ga))
        #expect(close(b.grad, 2 * gb))
        // Computed values hold the gradient of the latest pass only, so they
        // never feed a stale gradient back into the leaves.
        #expect(close(c.grad, gc))
    }

    @Test func gradientsOfTwoOutputsAddUp() {
        let w = Value(0.5)
        let y1 = w * 4
        let y2 = w.pow(2)
        y1.backward()
        y2.backward()
        #expect(close(w.grad, 4 + 1))
    }

    @Test func zeroGradOfOneValueOrTheWholeGraph() {
        let a = Value(2), b = Value(5)
        let y = (a * b).exp().log()
        y.backward()
        #expect(a.grad != 0 && b.grad != 0)
        a.zeroGrad()
        #expect(a.grad == 0)
        #expect(b.grad != 0)
        y.zeroGrad(wholeGraph: true)
        for v in y.topologicalOrder() { #expect(v.grad == 0) }
        y.backward()
        #expect(close(a.grad, 5) && close(b.grad, 2))
    }

    @Test(arguments: [50.0, -50.0, 400.0, -400.0, 1e6, -1e6])
    func tanhStaysFiniteForLargeInputs(_ x: Double) {
        let v = Value(x)
        let t = v.tanh()
        #expect(t.data.isFinite)
        #expect(t.data == (x > 0 ? 1 : -1))
        t.backward()
        #expect(v.grad.isFinite)
        #expect(v.grad == 0)
    }

    @Test(arguments: [1e-12, -1e-9, 1e-5, 0.3, -2.0, 7.5])
    func tanhMatchesTheLibraryFunction(_ x: Double) {
        let t = Value(x).tanh().data
        #expect(Swift.abs(t - Foundation.tanh(x)) <= 2 * Double.ulpOfOne * Swift.abs(Foundation.tanh(x)))
    }

    @Test func customOpThroughTheInitializer() {
        // sigmoid written as a user-defined op: σ'(x) = σ(x)(1 − σ(x)).
        func sigmoid(_ x: Value) -> Value {
            let s = 1 / (1 + Foundation.exp(-x.data))
            return Value(s, inputs: [x], localGrads: [s * (1 - s)], op: "sigmoid")
        }
        let x = Value(0.7)
        let y = sigmoid(x) * 3
        y.backward()
        let composed = Value(0.7)
        let z = (1 / (1 + (-composed).exp())) * 3
        z.backward()
        #expect(close(y.data, z.data, 1e-12))
        #expect(close(x.grad, composed.grad, 1e-12))
    }

    @Test func mismatchedLocalGradientsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = Value(1, inputs: [Value(2)], localGrads: [], op: "broken")
        }
    }

    @Test func topologicalOrderPutsInputsFirst() {
        let a = Value(1, label: "a"), b = Value(2, label: "b")
        let c = a * b
        let d = c + a
        let e = d.tanh() * c
        let order = e.topologicalOrder()
        #expect(order.last === e)
        #expect(Set(order.map(ObjectIdentifier.init)).count == order.count, "no value twice")
        // a, b, c, d, tanh(d), e — no constants here.
        #expect(order.count == 6)
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        for v in order {
            for input in v.inputs {
                let pi = try! #require(position[ObjectIdentifier(input)])
                #expect(pi < position[ObjectIdentifier(v)]!)
            }
        }
    }

    @Test func aLongChainBacksUpAndIsFreedWithoutRecursion() {
        let n = 100_000
        weak var middle: Value?
        weak var output: Value?
        let x = Value(1)
        do {
            var y = x
            for i in 0..<n {
                y = y * 1.000001
                if i == n / 2 { middle = y }
            }
            output = y
            y.backward()
            let expected = Foundation.pow(1.000001, Double(n))
            #expect(Swift.abs(x.grad - expected) < 1e-9 * expected)
            #expect(Swift.abs(y.data - expected) < 1e-9 * expected)
            #expect(y.topologicalOrder().count == 2 * n + 1)  // x, each constant, each product
        }
        #expect(middle == nil, "the chain was released")
        #expect(output == nil)
        #expect(x.grad > 1)  // the leaf survives
    }

    @Test func valuesHeldElsewhereKeepTheirInputs() {
        let a = Value(1), b = Value(2)
        var kept: Value?
        do {
            let c = a + b
            kept = c
            let d = c.tanh() * 4
            d.backward()
        }
        let c = try! #require(kept)
        #expect(c.inputs.count == 2)
        #expect(c.inputs[0] === a && c.inputs[1] === b)
    }

    @Test func graphsAreFreedWhenTheOutputGoes() {
        weak var weakProduct: Value?
        weak var weakOutput: Value?
        let a = Value(3)
        do {
            let p = a * a
            let out = (p + 1).relu()
            out.backward()
            weakProduct = p
            weakOutput = out
        }
        #expect(weakProduct == nil)
        #expect(weakOutput == nil)
    }

    /// A single tanh neuron learns a linearly separable target by gradient descent.
    @Test func aTinyNeuronLearns() {
        let xs: [[Double]] = [[2, 3], [1, -1], [-1, -2], [-2, 1], [3, 0.5], [-0.5, -3]]
        let ys: [Double] = [1, 1, -1, -1, 1, -1]  // sign(x₀ + 0.2·x₁ …)
        let w = [Value(-0.3, label: "w0"), Value(0.2, label: "w1")]
        let bias = Value(0.1, label: "b")

        func loss() -> Value {
            var total = Value(0)
            for (x, y) in zip(xs, ys) {
                let prediction = (w[0] * x[0] + w[1] * x[1] + bias).tanh()
                total = total + (prediction - y).pow(2)
            }
            return total / Double(xs.count)
        }

        let first = loss().data
        var last = first
        for _ in 0..<100 {
            let l = loss()
            for p in w + [bias] { p.zeroGrad() }
            l.backward()
            for p in w + [bias] { p.data -= 0.2 * p.grad }
            last = l.data
        }
        #expect(first > 0.5)
        #expect(last < 0.05, "loss went from \(first) to \(last)")
    }
}
