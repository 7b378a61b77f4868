import Foundation
import Kindling
import Testing

// Tests of tensor autograd (lessons 6–7): every differentiable op checked
// against finite differences on contiguous, non-contiguous and broadcast
// inputs; hand-worked backward rules; accumulation, `zeroGrad`, `detach`,
// `noGrad`, retained and freed graphs; error messages; memory.

// MARK: - Gradient-checked ops

/// Where an op's test inputs are drawn from, so finite differences never
/// straddle a kink (relu, abs, clamp), a pole (1/x) or a tie (max).
enum GradcheckDomain: Sendable {
    /// Uniform in [−2, 2).
    case any
    /// Uniform in [0.5, 2).
    case positive
    /// ±[0.5, 2): away from 0 (for 1/x the finite-difference error is
    /// (ε/x)² relative, 4·10⁻⁴ at x = 0.5 with ε = 10⁻²).
    case awayFromZero
    /// ±[0.2, 0.8) ∪ ±[1.2, 2): away from 0 and ±1 (the clamp bounds below).
    case awayFromZeroAndOne
    /// Distinct values 0.25 apart, shuffled: no ties for max/min.
    case distinct
}

/// One differentiable operation to gradient-check.
struct GradcheckOp: Sendable, CustomTestStringConvertible {
    let name: String
    /// Input shapes for the contiguous and non-contiguous kinds.
    let shapes: [[Int]]
    var domain: GradcheckDomain = .any
    /// For ops that broadcast their operands themselves: shape sets to try
    /// in the broadcast kind. `nil`: each input is made smaller (its first
    /// axis of size > 1 becomes 1) and `expanded` back before the op.
    var broadcastShapes: [[[Int]]]? = nil
    let f: @Sendable ([Tensor]) -> Tensor

    var testDescription: String { name }
}

/// How the inputs handed to an op are laid out.
enum InputLayout: String, CaseIterable, Sendable {
    /// Fresh contiguous leaves.
    case contiguous
    /// Leaves that are themselves strided views (a transpose or a step-2
    /// slice with an offset) of a larger tensor: exercises the kernels'
    /// strided paths.
    case nonContiguousLeaf
    /// Contiguous leaves of a larger shape, passed to the op through a
    /// transpose or step-2 slice: exercises those views' backward rules too.
    case viewOfLeaf
    /// Operands of different shapes that broadcast.
    case broadcast
}

/// Operand shapes that broadcast: a column with a row, a scalar tensor with a
/// matrix, a matrix with a row (the kernels' "bias" fast path), and rank 3
/// with rank 2.
private let binaryBroadcastShapes: [[[Int]]] = [
    [[3, 1], [4]], [[], [2, 3]], [[3, 4], [4]], [[2, 3, 4], [1, 3, 4]], [[2, 3, 4], [3, 1]], [[2, 1, 4], [3, 1]],
]

/// A fixed 0/1 mask for `where`, broadcastable against every shape above.
private func whereMask(_ shape: [Int]) -> Tensor {
    Tensor((0..<elementCount(shape)).map { $0 % 3 == 0 ? 1 : 0 }, shape: shape)
}

private let gradcheckOps: [GradcheckOp] = [
    // unary
    GradcheckOp(name: "neg", shapes: [[3, 4]]) { -$0[0] },
    GradcheckOp(name: "exp", shapes: [[3, 4]]) { $0[0].exp() },
    GradcheckOp(name: "log", shapes: [[3, 4]], domain: .positive) { $0[0].log() },
    GradcheckOp(name: "sqrt", shapes: [[3, 4]], domain: .positive) { $0[0].sqrt() },
    GradcheckOp(name: "abs", shapes: [[3, 4]], domain: .awayFromZero) { $0[0].abs() },
    GradcheckOp(name: "tanh", shapes: [[3, 4]]) { $0[0].tanh() },
    GradcheckOp(name: "sigmoid", shapes: [[3, 4]]) { $0[0].sigmoid() },
    GradcheckOp(name: "relu", shapes: [[3, 4]], domain: .awayFromZero) { $0[0].relu() },
    GradcheckOp(name: "gelu", shapes: [[3, 4]]) { $0[0].gelu() },
    GradcheckOp(name: "pow(2)", shapes: [[3, 4]]) { $0[0].pow(2) },
    GradcheckOp(name: "pow(3)", shapes: [[3, 4]]) { $0[0].pow(3) },
    GradcheckOp(name: "pow(0.5)", shapes: [[3, 4]], domain: .positive) { $0[0].pow(0.5) },
    GradcheckOp(name: "pow(-1)", shapes: [[3, 4]], domain: .positive) { $0[0].pow(-1) },
    GradcheckOp(name: "clamp(-1, 1)", shapes: [[3, 4]], domain: .awayFromZeroAndOne) { $0[0].clamp(min: -1, max: 1) },
    GradcheckOp(name: "clamp(min: 0)", shapes: [[3, 4]], domain: .awayFromZero) { $0[0].clamp(min: 0) },
    // with a number
    GradcheckOp(name: "x + 2", shapes: [[3, 4]]) { $0[0] + 2 },
    GradcheckOp(name: "2 + x", shapes: [[3, 4]]) { 2 + $0[0] },
    GradcheckOp(name: "x - 2", shapes: [[3, 4]]) { $0[0] - 2 },
    GradcheckOp(name: "2 - x", shapes: [[3, 4]]) { 2 - $0[0] },
    GradcheckOp(name: "x * 3", shapes: [[3, 4]]) { $0[0] * 3 },
    GradcheckOp(name: "3 * x", shapes: [[3, 4]]) { 3 * $0[0] },
    GradcheckOp(name: "x / 2", shapes: [[3, 4]]) { $0[0] / 2 },
    GradcheckOp(name: "2 / x", shapes: [[3, 4]], domain: .awayFromZero) { 2 / $0[0] },
    // binary, broadcasting
    GradcheckOp(name: "a + b", shapes: [[3, 4], [3, 4]], broadcastShapes: binaryBroadcastShapes) { $0[0] + $0[1] },
    GradcheckOp(name: "a - b", shapes: [[3, 4], [3, 4]], broadcastShapes: binaryBroadcastShapes) { $0[0] - $0[1] },
    GradcheckOp(name: "a * b", shapes: [[3, 4], [3, 4]], broadcastShapes: binaryBroadcastShapes) { $0[0] * $0[1] },
    GradcheckOp(name: "a / b", shapes: [[3, 4], [3, 4]], domain: .awayFromZero,
                broadcastShapes: binaryBroadcastShapes) { $0[0] / $0[1] },
    GradcheckOp(name: "a * a + b (reuse)", shapes: [[3, 4], [3, 4]], broadcastShapes: binaryBroadcastShapes) {
        $0[0] * $0[0] + $0[1]
    },
    GradcheckOp(name: "where", shapes: [[3, 4], [3, 4]], broadcastShapes: [[[3, 1], [4]], [[], [3, 4]]]) {
        Tensor.where(whereMask([3, 4]), $0[0], $0[1])
    },
    // reductions
    GradcheckOp(name: "sum()", shapes: [[2, 3, 4]]) { $0[0].sum() },
    GradcheckOp(name: "sum(axis: 1)", shapes: [[2, 3, 4]]) { $0[0].sum(axis: 1) },
    GradcheckOp(name: "sum(axes: [0, 2], keepdim)", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [0, 2], keepdim: true) },
    GradcheckOp(name: "sumToShape([3, 1])", shapes: [[2, 3, 4]]) { $0[0].sumToShape([3, 1]) },
    GradcheckOp(name: "mean()", shapes: [[2, 3, 4]]) { $0[0].mean() },
    GradcheckOp(name: "mean(axis: -1, keepdim)", shapes: [[2, 3, 4]]) { $0[0].mean(axis: -1, keepdim: true) },
    GradcheckOp(name: "mean(axes: [0, 1])", shapes: [[2, 3, 4]]) { $0[0].mean(axes: [0, 1]) },
    GradcheckOp(name: "variance(axes: [1])", shapes: [[2, 3, 4]]) { $0[0].variance(axes: [1]) },
    GradcheckOp(name: "variance(biased)", shapes: [[2, 3, 4]]) { $0[0].variance(unbiased: false) },
    GradcheckOp(name: "max()", shapes: [[2, 3, 4]], domain: .distinct) { $0[0].max() },
    GradcheckOp(name: "max(axis: 1)", shapes: [[2, 3, 4]], domain: .distinct) { $0[0].max(axis: 1) },
    GradcheckOp(name: "max(axes: [0, 2], keepdim)", shapes: [[2, 3, 4]], domain: .distinct) {
        $0[0].max(axes: [0, 2], keepdim: true)
    },
    GradcheckOp(name: "min()", shapes: [[2, 3, 4]], domain: .distinct) { $0[0].min() },
    GradcheckOp(name: "min(axis: 2)", shapes: [[2, 3, 4]], domain: .distinct) { $0[0].min(axis: 2) },
    GradcheckOp(name: "softmax(axis: -1)", shapes: [[2, 3, 4]]) { $0[0].softmax(axis: -1) },
    GradcheckOp(name: "softmax(axis: 0)", shapes: [[2, 3, 4]]) { $0[0].softmax(axis: 0) },
    GradcheckOp(name: "logSoftmax(axis: 1)", shapes: [[2, 3, 4]]) { $0[0].logSoftmax(axis: 1) },
    GradcheckOp(name: "logsumexp(axis: -1)", shapes: [[2, 3, 4]]) { $0[0].logsumexp(axis: -1) },
    GradcheckOp(name: "logsumexp(axis: 0, keepdim)", shapes: [[2, 3, 4]]) { $0[0].logsumexp(axis: 0, keepdim: true) },
    // matmul
    GradcheckOp(name: "matmul matrix × matrix", shapes: [[3, 4], [4, 5]],
                broadcastShapes: [[[2, 1, 3, 4], [5, 4, 2]], [[3, 4], [2, 4, 5]]]) { $0[0].matmul($0[1]) },
    GradcheckOp(name: "matmul vector · vector", shapes: [[4], [4]]) { $0[0].matmul($0[1]) },
    GradcheckOp(name: "matmul vector × matrix", shapes: [[4], [4, 5]]) { $0[0].matmul($0[1]) },
    GradcheckOp(name: "matmul matrix × vector", shapes: [[3, 4], [4]]) { $0[0].matmul($0[1]) },
    GradcheckOp(name: "matmul batched", shapes: [[2, 3, 4], [2, 4, 5]]) { $0[0].matmul($0[1]) },
    GradcheckOp(name: "linear + tanh", shapes: [[4, 3], [3, 5], [5]]) { ($0[0].matmul($0[1]) + $0[2]).tanh() },
    // convolution and pooling
    GradcheckOp(name: "conv2d(bias, stride 2, padding 1)", shapes: [[2, 3, 5, 5], [4, 3, 3, 3], [4]]) {
        $0[0].conv2d($0[1], bias: $0[2], stride: 2, padding: 1)
    },
    GradcheckOp(name: "conv2d(no bias)", shapes: [[1, 2, 4, 5], [3, 2, 2, 3]]) { $0[0].conv2d($0[1]) },
    GradcheckOp(name: "maxPool2d(2)", shapes: [[2, 2, 4, 4]], domain: .distinct) { $0[0].maxPool2d(kernelSize: 2) },
    GradcheckOp(name: "maxPool2d(3, stride 1)", shapes: [[1, 2, 5, 4]], domain: .distinct) {
        $0[0].maxPool2d(kernelSize: 3, stride: 1)
    },
    // views and copies
    GradcheckOp(name: "reshaped([4, 3])", shapes: [[3, 4]]) { $0[0].reshaped([4, 3]) },
    GradcheckOp(name: "reshaped([-1])", shapes: [[2, 3, 4]]) { $0[0].reshaped([-1]) },
    GradcheckOp(name: "transposed()", shapes: [[3, 4]]) { $0[0].transposed() },
    GradcheckOp(name: "permuted([2, 0, 1])", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    GradcheckOp(name: "sliced(step: 2)", shapes: [[3, 5]]) { $0[0].sliced(axis: 1, from: 1, to: 5, step: 2) },
    GradcheckOp(name: "sliced(from: -2)", shapes: [[4, 3]]) { $0[0].sliced(from: -2) },
    GradcheckOp(name: "selected(axis: 1, index: -1)", shapes: [[3, 4]]) { $0[0].selected(axis: 1, index: -1) },
    GradcheckOp(name: "squeezed()", shapes: [[3, 1, 4]]) { $0[0].squeezed() },
    GradcheckOp(name: "squeezed(axis: 1)", shapes: [[3, 1, 4]]) { $0[0].squeezed(axis: 1) },
    GradcheckOp(name: "unsqueezed(axis: 1)", shapes: [[3, 4]]) { $0[0].unsqueezed(axis: 1) },
    GradcheckOp(name: "expanded(to: [2, 3, 4])", shapes: [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
    GradcheckOp(name: "contiguous()", shapes: [[3, 4]]) { $0[0].contiguous() },
    GradcheckOp(name: "copy()", shapes: [[3, 4]]) { $0[0].copy() },
    GradcheckOp(name: "concatenated(axis: 1)", shapes: [[3, 2], [3, 4]]) { Tensor.concatenated($0, axis: 1) },
    GradcheckOp(name: "concatenated(axis: 0)", shapes: [[2, 3], [1, 3]]) { Tensor.concatenated($0, axis: 0) },
    GradcheckOp(name: "stacked(axis: 1)", shapes: [[3, 4], [3, 4]]) { Tensor.stacked($0, axis: 1) },
    GradcheckOp(name: "gatherRows([2, 0, 2, 1])", shapes: [[3, 4]]) { $0[0].gatherRows([2, 0, 2, 1]) },
]

/// A deterministic seed from a test's name (`hashValue` changes per process).
private func seed(_ text: String) -> UInt64 {
    text.unicodeScalars.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1.value)) &* 1099511628211 }
}

/// `count` numbers from `domain`.
private func sample(_ count: Int, _ domain: GradcheckDomain, _ g: inout SeededGenerator) -> [Float] {
    func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * g.nextUnitFloat() }
    func randomSign() -> Float { g.nextUnitFloat() < 0.5 ? -1 : 1 }
    switch domain {
    case .any: return (0..<count).map { _ in uniform(-2, 2) }
    case .positive: return (0..<count).map { _ in uniform(0.5, 2) }
    case .awayFromZero: return (0..<count).map { _ in randomSign() * uniform(0.5, 2) }
    case .awayFromZeroAndOne:
        return (0..<count).map { _ in randomSign() * (g.nextUnitFloat() < 0.5 ? uniform(0.2, 0.8) : uniform(1.2, 2)) }
    case .distinct:
        return (0..<count).map { Float($0) * 0.25 - Float(count) * 0.125 }.shuffled(using: &g)
    }
}

/// A contiguous leaf that requires grad.
private func leaf(_ shape: [Int], _ domain: GradcheckDomain, _ g: inout SeededGenerator) -> Tensor {
    Tensor(sample(elementCount(shape), domain, &g), shape: shape, requiresGrad: true)
}

/// A tensor of a larger shape and the view of it that has `shape`: a
/// transpose of the last two axes (even `i`, when both are longer than 1, so
/// the transpose really is strided) or else a step-2 slice from 1 along the
/// last axis; a scalar is its own view.
private func strided(_ shape: [Int], index i: Int, _ domain: GradcheckDomain,
                     _ g: inout SeededGenerator) -> (base: Tensor, view: @Sendable (Tensor) -> Tensor) {
    let r = shape.count
    if r == 0 { return (Tensor(sample(1, domain, &g), shape: []), { $0 }) }
    if r >= 2 && i % 2 == 0 && shape[r - 1] > 1 && shape[r - 2] > 1 {
        var baseShape = shape
        baseShape.swapAt(r - 1, r - 2)
        return (Tensor(sample(elementCount(baseShape), domain, &g), shape: baseShape), { $0.transposed() })
    }
    var baseShape = shape
    baseShape[r - 1] *= 2
    return (Tensor(sample(elementCount(baseShape), domain, &g), shape: baseShape),
            { $0.sliced(axis: -1, from: 1, to: nil, step: 2) })
}

/// `shape` with its first axis of size > 1 made 1 (so it broadcasts back).
private func shrunk(_ shape: [Int]) -> [Int] {
    var s = shape
    if let i = s.firstIndex(where: { $0 > 1 }) { s[i] = 1 }
    return s
}

// MARK: - Gradcheck tests

@Suite("Gradient checks of every op")
struct GradcheckTests {
    /// |autograd − numerical| ≤ 10⁻³ + 10⁻³·|numerical| with gradcheck's default
    /// ε = 10⁻²·max(1, |x|): Float32 rounding of the loss contributes about
    /// 10⁻⁷·|L|/ε ≈ 10⁻⁴, the central difference's truncation (ε/x)²-relative
    /// on the domains above at most 4·10⁻⁴.
    let tolerance = 1e-3

    @Test(arguments: gradcheckOps, InputLayout.allCases)
    func gradientsMatchFiniteDifferences(_ op: GradcheckOp, _ layout: InputLayout) {
        var g = SeededGenerator(seed: seed(op.name + layout.rawValue))
        switch layout {
        case .contiguous:
            let xs = op.shapes.map { leaf($0, op.domain, &g) }
            check(op, layout, gradcheck(xs, atol: tolerance, rtol: tolerance) { op.f($0) })
        case .nonContiguousLeaf:
            let xs = op.shapes.enumerated().map { i, shape in
                let (base, view) = strided(shape, index: i, op.domain, &g)
                let x = view(base)
                #expect(x.shape == shape && x.isLeaf)
                x.requiresGrad = true
                return x
            }
            if op.shapes.contains(where: { $0.count > 0 }) {
                #expect(xs.contains { !$0.isContiguous }, "no input ended up non-contiguous")
            }
            check(op, layout, gradcheck(xs, atol: tolerance, rtol: tolerance) { op.f($0) })
        case .viewOfLeaf:
            let pairs = op.shapes.enumerated().map { i, shape in strided(shape, index: i, op.domain, &g) }
            for (base, _) in pairs { base.requiresGrad = true }
            let views = pairs.map(\.view)
            check(op, layout, gradcheck(pairs.map(\.base), atol: tolerance, rtol: tolerance) { bases in op.f(zip(bases, views).map { $1($0) }) })
        case .broadcast:
            if let sets = op.broadcastShapes {
                for shapes in sets {
                    let xs = shapes.map { leaf($0, op.domain, &g) }
                    check(op, layout, gradcheck(xs, atol: tolerance, rtol: tolerance) { op.f($0) }, detail: "\(shapes)")
                }
            } else {
                let xs = op.shapes.map { leaf(shrunk($0), op.domain, &g) }
                let shapes = op.shapes
                check(op, layout, gradcheck(xs, atol: tolerance, rtol: tolerance) { xs in op.f(zip(xs, shapes).map { $0.expanded(to: $1) }) },
                      detail: "\(xs.map(\.shape)) expanded to \(shapes)")
            }
        }
    }

    private func check(_ op: GradcheckOp, _ layout: InputLayout, _ report: GradcheckReport, detail: String = "",
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!report.inputs.isEmpty, "no input was checked", sourceLocation: sourceLocation)
        #expect(report.passed, "\(op.name), \(layout.rawValue) \(detail):\n\(report)", sourceLocation: sourceLocation)
    }

    /// The checker has teeth: a gradient that is wrong by a factor of 2 fails.
    @Test func gradcheckCatchesAWrongGradient() {
        let x = Tensor([0.5, -1, 1.5, 2], requiresGrad: true)
        // d(x·x)/dx = 2x, but detaching one factor makes autograd report x.
        let report = gradcheck([x]) { $0[0].detach() * $0[0] }
        #expect(!report.passed)
        #expect(report.inputs.count == 1 && report.inputs[0].worstIndex == [3])
        #expect(gradcheck([x]) { $0[0] * $0[0] }.passed)
    }

    @Test func inputsThatDoNotRequireGradAreSkipped() {
        let a = Tensor([1, 2, 3], requiresGrad: true), b = Tensor([4, 5, 6])
        let report = gradcheck([a, b]) { $0[0] * $0[1] }
        #expect(report.inputs.map(\.input) == [0])
        #expect(report.passed)
    }

    /// An op of one's own through the public `Tensor.record` (its doc's example).
    @Test func aCustomOpRecordedByHand() {
        func softsign(_ x: Tensor) -> Tensor {
            let y = noGrad { x / (x.abs() + 1) }
            return Tensor.record(y, op: "softsign", inputs: [x]) { g in
                let d = x.abs() + 1
                return [g / (d * d)]
            }
        }
        let x = Tensor([-3, -0.5, 0.25, 2], requiresGrad: true)
        let y = softsign(x)
        #expect(y.node?.op == "softsign" && y.node?.inputs.first === x)
        let report = gradcheck([x]) { softsign($0[0]) }
        #expect(report.passed, "\(report)")
        #expect(noGrad { softsign(x) }.node == nil, "nothing recorded inside noGrad")
    }
}

// MARK: - Hand-worked backward rules

/// The gradient of `x` as an array (empty if none).
private func gradValues(_ x: Tensor) -> [Float] { x.grad?.toArray() ?? [] }

/// `0, 1, 2, …` in the given shape.
private func iota(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    Tensor((0..<elementCount(shape)).map(Float.init), shape: shape, requiresGrad: requiresGrad)
}

@Suite("Backward rules")
struct BackwardRuleTests {
    @Test func permute() {
        let x = iota([2, 3, 4], requiresGrad: true)
        let w = iota([4, 2, 3]) + 1
        (x.permuted([2, 0, 1]) * w).sum().backward()
        // x.grad[i, j, k] = w[k, i, j]
        #expect(x.grad?.shape == [2, 3, 4])
        #expect(gradValues(x) == w.permuted([1, 2, 0]).toArray())
    }

    @Test func transposeOfAMatrix() {
        let x = iota([2, 3], requiresGrad: true)
        (x.transposed() * Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])).sum().backward()
        #expect(gradValues(x) == [1, 3, 5, 2, 4, 6])
    }

    @Test func sliceWithStep() {
        let x = iota([10], requiresGrad: true)
        (x.sliced(from: 1, to: 8, step: 3) * Tensor([1, 2, 3])).sum().backward()
        #expect(gradValues(x) == [0, 1, 0, 0, 2, 0, 0, 3, 0, 0])
        let m = iota([3, 4], requiresGrad: true)
        m.sliced(axis: 1, from: -2).sum().backward()
        #expect(gradValues(m) == [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    }

    @Test func select() {
        let m = iota([3, 4], requiresGrad: true)
        (m.selected(axis: 0, index: 1) * Tensor([1, 2, 3, 4])).sum().backward()
        #expect(gradValues(m) == [0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0])
    }

    @Test func expandSumsBack() {
        let x = Tensor([1, 2, 3], shape: [3, 1], requiresGrad: true)
        x.expanded(to: [2, 3, 4]).sum().backward()
        #expect(x.grad?.shape == [3, 1])
        #expect(gradValues(x) == [8, 8, 8])
    }

    @Test func reshape() {
        let x = iota([2, 3], requiresGrad: true)
        (x.reshaped([3, 2]) * iota([3, 2])).sum().backward()
        #expect(x.grad?.shape == [2, 3])
        #expect(gradValues(x) == [0, 1, 2, 3, 4, 5])
        let t = iota([3, 2], requiresGrad: true)
        (t.transposed().reshaped([6]) * iota([6])).sum().backward()  // copy + reshape
        #expect(gradValues(t) == [0, 3, 1, 4, 2, 5])
    }

    @Test func squeezeAndUnsqueeze() {
        let x = iota([3, 1], requiresGrad: true)
        (x.squeezed() * Tensor([1, 2, 3])).sum().backward()
        #expect(x.grad?.shape == [3, 1])
        #expect(gradValues(x) == [1, 2, 3])
        let v = iota([3], requiresGrad: true)
        (v.unsqueezed(axis: 0) * Tensor([4, 5, 6], shape: [1, 3])).sum().backward()
        #expect(v.grad?.shape == [3])
        #expect(gradValues(v) == [4, 5, 6])
    }

    @Test func concatenateAndStack() {
        let a = iota([2, 2], requiresGrad: true), b = iota([2, 1], requiresGrad: true)
        (Tensor.concatenated([a, b], axis: 1) * iota([2, 3])).sum().backward()
        #expect(gradValues(a) == [0, 1, 3, 4])
        #expect(gradValues(b) == [2, 5])
        let p = iota([3], requiresGrad: true), q = iota([3], requiresGrad: true)
        (Tensor.stacked([p, q], axis: 1) * iota([3, 2])).sum().backward()
        #expect(gradValues(p) == [0, 2, 4])
        #expect(gradValues(q) == [1, 3, 5])
    }

    @Test func gatherRowsAddsRepeatedRows() {
        let x = iota([3, 2], requiresGrad: true)
        (x.gatherRows([2, 0, 2]) * iota([3, 2])).sum().backward()
        #expect(gradValues(x) == [2, 3, 0, 0, 4, 6])
    }

    @Test func sumAndMeanOverAxes() {
        let x = iota([2, 3], requiresGrad: true)
        (x.sum(axis: 0) * Tensor([1, 2, 3])).sum().backward()
        #expect(gradValues(x) == [1, 2, 3, 1, 2, 3])
        let y = iota([2, 3], requiresGrad: true)
        (y.mean(axis: 1) * Tensor([3, 6])).sum().backward()
        #expect(gradValues(y) == [1, 1, 1, 2, 2, 2])
        let z = iota([2, 3, 2], requiresGrad: true)
        (z.sum(axes: [0, 2], keepdim: true) * Tensor([1, 2, 3], shape: [1, 3, 1])).sum().backward()
        #expect(gradValues(z) == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    }

    @Test func maxSendsTheGradientToTheFirstMaximum() {
        let x = Tensor([1, 5, 5, 7, 2, 3], shape: [2, 3], requiresGrad: true)
        (x.max(axis: 1) * Tensor([1, 2])).sum().backward()
        #expect(gradValues(x) == [0, 1, 0, 2, 0, 0])
        let y = Tensor([1, 5, 5, 7, 2, 7], shape: [2, 3], requiresGrad: true)
        y.max().backward()
        #expect(gradValues(y) == [0, 0, 0, 1, 0, 0])
        let z = Tensor([4, 1, 2, 0, 3, 5], shape: [2, 3], requiresGrad: true)
        z.min(axes: [0, 1]).backward()
        #expect(gradValues(z) == [0, 0, 0, 1, 0, 0])
    }

    @Test func broadcastGradientsAreSummedBack() {
        let a = Tensor([1, 2, 3], shape: [3, 1], requiresGrad: true), b = Tensor([1, 2, 3, 4], requiresGrad: true)
        (a * b).sum().backward()
        #expect(a.grad?.shape == [3, 1] && b.grad?.shape == [4])
        #expect(gradValues(a) == [10, 10, 10])
        #expect(gradValues(b) == [6, 6, 6, 6])
        let s = Tensor(scalar: 2, requiresGrad: true)
        (s * iota([2, 3])).sum().backward()
        #expect(s.grad?.shape == [])
        #expect(gradValues(s) == [15])
    }

    @Test func matmulByHand() {
        let x = Tensor([1, 2], requiresGrad: true), w = Tensor([3, 4], requiresGrad: true)
        x.matmul(w).backward()
        #expect(gradValues(x) == [3, 4])
        #expect(gradValues(w) == [1, 2])
        // dL/dA = G Bᵀ, dL/dB = Aᵀ G with G all ones
        let a = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
        let b = Tensor([5, 6, 7, 8], shape: [2, 2], requiresGrad: true)
        a.matmul(b).sum().backward()
        #expect(gradValues(a) == [11, 15, 11, 15])
        #expect(gradValues(b) == [4, 4, 6, 6])
    }

    @Test func explicitUpstreamGradient() {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        (x * x).backward(Tensor([1, 0, -1]))
        #expect(gradValues(x) == [2, 0, -6])
    }
}

// MARK: - Graph semantics

@Suite("Autograd graph semantics")
struct GraphSemanticsTests {
    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1, -2, 3], requiresGrad: true)
        (x * x).sum().backward()
        #expect(gradValues(x) == [2, -4, 6])
        (x * 3).sum().backward()
        #expect(gradValues(x) == [5, -1, 9])
    }

    @Test func leavesThatShareAnUpstreamGradientGetTheirOwnCopies() {
        let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3, 4], requiresGrad: true)
        (a + b).sum().backward()
        (a + b).sum().backward()
        #expect(gradValues(a) == [2, 2])
        #expect(gradValues(b) == [2, 2])
        #expect(a.grad?.storage !== b.grad?.storage)
    }

    @Test func zeroGradForgetsTheGradient() {
        let x = Tensor([1, 2], requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad != nil)
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * 5).sum().backward()
        #expect(gradValues(x) == [5, 5])
    }

    @Test func reusedTensorsCollectEveryPath() {
        let x = Tensor([3], requiresGrad: true)
        (x + x).sum().backward()
        #expect(gradValues(x) == [2])
        x.zeroGrad()
        (x * x * x).sum().backward()
        #expect(gradValues(x) == [27])
    }

    @Test func detachStopsGradients() {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        let d = x.detach()
        #expect(!d.requiresGrad && d.isLeaf)
        #expect(d.storage === x.storage)
        (d * x).sum().backward()
        #expect(gradValues(x) == [1, 2, 3])  // not 2x
        #expect(d.grad == nil)
    }

    @Test func noGradRecordsNothing() {
        let x = Tensor([1, 2], requiresGrad: true)
        let y = noGrad { (x * x).exp().sum() }
        #expect(!y.requiresGrad)
        #expect(y.isLeaf && y.node == nil)
        #expect(noGrad { GradMode.isEnabled } == false)
        #expect(GradMode.isEnabled)
        let z = noGrad { enableGrad { x * 2 } }
        #expect(z.requiresGrad && z.node?.op == "mul")
        // constants never require grad
        #expect(!(Tensor([1]) * Tensor([2])).requiresGrad)
    }

    @Test func resultsRecordTheirOpAndInputs() {
        let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3, 4])
        let c = a * b
        #expect(c.requiresGrad && !c.isLeaf)
        #expect(c.node?.op == "mul")
        #expect(c.node?.inputs.count == 2)
        #expect(c.node?.inputs[0] === a && c.node?.inputs[1] === b)
        #expect(c.node?.isFreed == false)
        c.sum().backward()
        #expect(c.node?.isFreed == true)
    }

    @Test func retainGraphAllowsASecondPass() {
        let x = Tensor([1, 2], requiresGrad: true)
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        #expect(gradValues(x) == [2, 4])
        y.backward()
        #expect(gradValues(x) == [4, 8])
    }

    @Test func aSecondBackwardThroughAFreedGraphTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1, 2], requiresGrad: true)
            let y = (x * x).sum()
            y.backward()
            y.backward()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("freed"), "stderr: \(message)")
    }

    @Test func backwardOfANonScalarNeedsAGradient() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Tensor([1, 2], requiresGrad: true).exp().backward()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("backward") && message.contains("[2]"), "stderr: \(message)")
    }

    @Test func backwardOfATensorWithoutGradTraps() async {
        await #expect(processExitsWith: .failure) {
            Tensor([1]).backward()
        }
    }

    @Test func topologicalOrderPutsInputsFirst() {
        let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3, 4], requiresGrad: true)
        let constant = Tensor([5, 6])
        let c = a * b
        let d = (c + a) * constant
        let e = d.exp().sum() + c.sum()
        let order = e.topologicalOrder()
        #expect(order.last === e)
        #expect(Set(order.map(ObjectIdentifier.init)).count == order.count, "no tensor twice")
        #expect(!order.contains { $0 === constant }, "tensors that need no grad are left out")
        #expect(order.contains { $0 === a } && order.contains { $0 === b })
        // a, b, c, c + a, d, exp, sum, sum, e
        #expect(order.count == 9)
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        for t in order {
            for input in t.node?.inputs ?? [] where input.requiresGrad {
                #expect(position[ObjectIdentifier(input)]! < position[ObjectIdentifier(t)]!)
            }
        }
        #expect(a.topologicalOrder().count == 1)
    }

    @Test func aLongChainBacksUpAndIsFreed() {
        let n = 100_000
        let x = Tensor([1], requiresGrad: true)
        weak var middle: Tensor?
        do {
            var y = x
            for i in 0..<n {
                y = y * 1.0001
                if i == n / 2 { middle = y }
            }
            #expect(middle != nil)
            y.sum().backward()
            let expected = Foundation.pow(Double(Float(1.0001)), Double(n))
            let grad = Double(x.grad?.item() ?? 0)
            #expect(Swift.abs(grad - expected) < 1e-3 * expected, "grad \(grad), expected \(expected)")
            #expect(Double(y.item()) == grad)  // same products, same order
        }
        #expect(middle == nil, "the chain was released")
    }
}

// MARK: - Error messages

@Suite("Shape errors name the op and both shapes")
struct ShapeErrorTests {
    @Test func addingIncompatibleShapesTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("add"), "stderr: \(message)")
        #expect(message.contains("[2, 3]") && message.contains("[4]"), "stderr: \(message)")
    }

    @Test func matmulWithMismatchedInnerDimensionsTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([64, 784]).matmul(Tensor.zeros([128, 10]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("matmul"), "stderr: \(message)")
        #expect(message.contains("[64, 784]") && message.contains("[128, 10]"), "stderr: \(message)")
    }
}

// MARK: - Memory

/// Builds, runs and back-propagates a two-layer network on random data.
private func mlpStep(w1: Tensor, b1: Tensor, w2: Tensor) -> Float {
    let x = Tensor.randn([8, 5])
    let hidden = (x.matmul(w1) + b1).relu()
    let logits = hidden.matmul(w2)
    let loss = -logits.logSoftmax(axis: 1).mean() + (w1 * w1).sum() * 0.01
    loss.backward()
    return loss.item()
}

/// Live-tensor counts run in a child process: tests in this process run in
/// parallel and create tensors of their own, so a count here would be racy.
@Suite("Graphs are freed")
struct LiveCountTests {
    @Test func aTrainingStepLeavesNoTensorBehind() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let w1 = Tensor.randn([5, 16], requiresGrad: true)
            let b1 = Tensor.zeros([16], requiresGrad: true)
            let w2 = Tensor.randn([16, 3], requiresGrad: true)
            let start = Tensor.liveCount
            for _ in 0..<3 {
                _ = mlpStep(w1: w1, b1: b1, w2: w2)
                for p in [w1, b1, w2] { p.zeroGrad() }
                let now = Tensor.liveCount
                if now != start {
                    FileHandle.standardError.write(Data("live tensors: \(start) before a step, \(now) after\n".utf8))
                    exit(1)
                }
            }
        }
        if let result, result.exitStatus != .exitCode(0) {
            Issue.record("child: \(String(decoding: result.standardErrorContent, as: UTF8.self))")
        }
    }

    @Test func everythingBuiltInAScopeIsFreed() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let start = Tensor.liveCount
            do {
                let w1 = Tensor.randn([5, 16], requiresGrad: true)
                let b1 = Tensor.zeros([16], requiresGrad: true)
                let w2 = Tensor.randn([16, 3], requiresGrad: true)
                _ = mlpStep(w1: w1, b1: b1, w2: w2)
                _ = mlpStep(w1: w1, b1: b1, w2: w2)  // accumulated grads
                let views = w1.transposed().sliced(axis: 0, from: 1, step: 2).reshaped([-1])
                (views.sum() * 2).backward(retainGraph: true)
            }
            let end = Tensor.liveCount
            if end != start {
                FileHandle.standardError.write(Data("live tensors: \(start) before, \(end) after\n".utf8))
                exit(1)
            }
        }
        if let result, result.exitStatus != .exitCode(0) {
            Issue.record("child: \(String(decoding: result.standardErrorContent, as: UTF8.self))")
        }
    }
}
