import Foundation
import Testing
// Swift's own automatic differentiation, built into the compiler: a third,
// independent referee for exercise 7.1 (see `threeRefereesAgree`). The module
// ships with the swift.org toolchain this course uses on Linux, but not with
// every toolchain (Xcode's lacks it), hence the `#if`.
#if canImport(_Differentiation)
import _Differentiation
#endif
// `@testable` for `Tensor.record`, which builds an op with a backward rule of
// our choosing — here, deliberately wrong ones for gradcheck to catch.
import Kindling

// Lesson 7 — gradient checking (Lessons/07-gradient-checking.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson07           all of lesson 7
//     swift test --filter Exercise_7_3       one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 7.x is not done yet". Each
// exercise's tests use only that exercise and earlier ones — including your
// lessons 1–6: the milestone checks your own backward rules with your own
// gradcheck.

#if canImport(_Differentiation)
// MARK: - Scalar functions, written three times

// Each function is written once for `Value` (lesson 1), once for Swift's
// compiler autodiff, and the plain Double version is the autodiff one.

@differentiable(reverse) private func cubicPlusLine(_ x: Double) -> Double { x * x * x + 2 * x }
@differentiable(reverse) private func tanhTimesX(_ x: Double) -> Double { Foundation.tanh(x) * x }
@differentiable(reverse) private func softplus(_ x: Double) -> Double { Foundation.log(1 + Foundation.exp(x)) }
@differentiable(reverse) private func bump(_ x: Double) -> Double { Foundation.exp(-x * x / 2) / (1 + x * x) }

struct Lesson07ScalarCase: Sendable, CustomTestStringConvertible {
    let name: String
    let at: Double
    let plain: @Sendable (Double) -> Double
    let swiftGradient: @Sendable (Double) -> Double
    let value: @Sendable (Value) -> Value
    var testDescription: String { "\(name) at \(at)" }
}

private let scalarCases: [Lesson07ScalarCase] = [
    Lesson07ScalarCase(name: "x³ + 2x", at: 1.5, plain: cubicPlusLine, swiftGradient: { gradient(at: $0, of: cubicPlusLine) },
               value: { x in x * x * x + 2 * x }),
    Lesson07ScalarCase(name: "tanh(x)·x", at: -0.7, plain: tanhTimesX, swiftGradient: { gradient(at: $0, of: tanhTimesX) },
               value: { x in x.tanh() * x }),
    Lesson07ScalarCase(name: "log(1 + eˣ)", at: 0.3, plain: softplus, swiftGradient: { gradient(at: $0, of: softplus) },
               value: { x in (1 + x.exp()).log() }),
    Lesson07ScalarCase(name: "exp(−x²/2) / (1 + x²)", at: 0.8, plain: bump, swiftGradient: { gradient(at: $0, of: bump) },
               value: { x in (-(x * x) / 2).exp() / (1 + x * x) }),
]
#endif

// MARK: - Helpers

/// A deliberately wrong op: sigmoid whose backward rule forgets the (1 − s) factor.
private func sigmoidMissingAFactor(_ x: Tensor) -> Tensor {
    let s = noGrad { x.sigmoid() }
    let saved = s.detach()  // never capture the output itself: a retain cycle
    return Tensor.record(s, op: "badSigmoid", inputs: [x]) { g in [g * saved] }
}

/// Uniform numbers in [lo, hi) from a fixed seed.
private func numbers(_ count: Int, seed: UInt64, _ lo: Float = -2, _ hi: Float = 2) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in lo + (hi - lo) * g.nextUnitFloat() }
}

@Suite("Lesson07", .serialized) struct Lesson07 {

    // MARK: 7.1 — central difference

    @Suite("7.1 centralDifference") struct Exercise_7_1 {
        @Test func theCubeAtTwo() {
            // (x+h)³ − (x−h)³ = 6x²h + 2h³, so the central difference of x³ is 3x² + h² exactly.
            let d = centralDifference(at: 2, step: 0.1) { $0 * $0 * $0 }
            #expect(Swift.abs(d - 12.01) < 1e-9,
                    "the central difference of x³ at 2 with h = 0.1 is 3·2² + 0.1² = 12.01, got \(d)\(Swift.abs(d - 12.61) < 1e-9 ? " — that is the one-sided (f(x+h) − f(x))/h" : Swift.abs(d - 24.02) < 1e-9 ? " — divide by 2h, not h" : "")")
        }

        @Test func smallStepsGetCloser() {
            let exact = Foundation.cos(1.0)
            let coarse = Swift.abs(centralDifference(at: 1, step: 1e-2, Foundation.sin) - exact)
            let fine = Swift.abs(centralDifference(at: 1, step: 1e-3, Foundation.sin) - exact)
            #expect(fine < 1e-6 && coarse / fine > 50,
                    "the central difference's error shrinks like h²: h 10× smaller, error ~100× smaller; got \(coarse) then \(fine)")
        }

        #if canImport(_Differentiation)
        /// Three independent ways to the same derivative: your `Value` graph
        /// (lesson 1), the Swift compiler's own autodiff, and your finite difference.
        @Test(arguments: scalarCases)
        func threeRefereesAgree(_ c: Lesson07ScalarCase) {
            let x = Value(c.at)
            c.value(x).backward()
            let compiler = c.swiftGradient(c.at)
            let numeric = centralDifference(at: c.at, step: 1e-5, c.plain)
            #expect(Swift.abs(x.grad - compiler) <= 1e-12 * Swift.max(1, Swift.abs(compiler)),
                    "\(c.name) at \(c.at): Value.backward() gave \(x.grad), Swift's autodiff \(compiler)")
            #expect(Swift.abs(numeric - compiler) <= 1e-8,
                    "\(c.name) at \(c.at): centralDifference gave \(numeric), Swift's autodiff \(compiler)")
        }
        #endif
    }

    // MARK: 7.2 — the tolerance test

    @Suite("7.2 gradientsAgree") struct Exercise_7_2 {
        @Test func anAbsoluteAndARelativePart() {
            #expect(gradientsAgree(1e-9, 3e-9, atol: 1e-6, rtol: 1e-3),
                    "near zero only the absolute part matters: 10⁻⁹ and 3·10⁻⁹ agree within atol 10⁻⁶")
            #expect(gradientsAgree(1000.5, 1000, atol: 1e-3, rtol: 1e-3),
                    "for large gradients the relative part matters: 0.5 ≤ 10⁻³ + 10⁻³·1000")
            #expect(!gradientsAgree(1002, 1000, atol: 1e-3, rtol: 1e-3), "an error of 2 on 1000 is more than 10⁻³ + 1")
            #expect(!gradientsAgree(0.5, 1, atol: 1e-2, rtol: 1e-2), "0.5 against 1 is a wrong gradient")
        }

        @Test func negativeGradientsAndTheBoundary() {
            #expect(gradientsAgree(-1000.5, -1000, atol: 1e-3, rtol: 1e-3),
                    "−1000.5 against −1000 agrees (0.5 ≤ 10⁻³ + 10⁻³·|−1000|) — the relative part uses |numerical|: a negative gradient must not get a negative tolerance")
            #expect(gradientsAgree(1.5, 1, atol: 0.5, rtol: 0),
                    "an error of exactly atol + rtol·|numerical| agrees: the boundary counts as agreeing (<=)")
        }

        @Test func nanNeverAgrees() {
            #expect(!gradientsAgree(.nan, 1, atol: 1e-2, rtol: 1e-2), "a NaN gradient must fail the check — write error <= allowed: every comparison with NaN is false, so !(error > allowed) would let NaN through")
            #expect(!gradientsAgree(1, .nan, atol: 1e-2, rtol: 1e-2), "a NaN finite difference must fail the check")
        }
    }

    // MARK: 7.3 — perturb one element and put it back

    @Suite("7.3 withElement") struct Exercise_7_3 {
        @Test func changesOneElementThenPutsItBack() {
            let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            let seen = withElement(of: x, at: [1, 0], setTo: 40) { x.toArray() }
            #expect(seen == [1, 2, 3, 40, 5, 6], "inside the body, element [1, 0] is 40 and nothing else changed; got \(seen)")
            #expect(x.toArray() == [1, 2, 3, 4, 5, 6], "afterwards the original is back; got \(x.toArray())\(x.toArray() == [1, 2, 3, 40, 5, 6] ? " — write the saved number back after the body (defer { … } runs when the function returns)" : "")")
        }

        @Test func worksThroughAView() {
            let base = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])
            let view = base.transposed()  // [[0, 3], [1, 4], [2, 5]]
            let sum = withElement(of: view, at: [2, 0], setTo: -100) { Double(base[0, 2]) }
            #expect(sum == -100, "element [2, 0] of the transpose is element [0, 2] of its base — use the view's strides and offset; read \(sum) there")
            #expect(base.toArray() == [0, 1, 2, 3, 4, 5])
        }

        @Test func worksThroughAViewThatStartsInTheMiddle() {
            let base = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])
            let row = base.sliced(axis: 0, from: 1)  // [[3, 4, 5]], offset 3
            let seen = withElement(of: row, at: [0, 1], setTo: -7) { Double(base[1, 1]) }
            #expect(seen == -7, "element [0, 1] of rows 1..<2 is element [1, 1] of its base — use the view's strides and offset; read \(seen) there")
            #expect(base.toArray() == [0, 1, 2, 3, 4, 5])
        }

        @Test func numericalGradientOfASumOfSquares() {
            // Σ x² has gradient 2x. Numerical gradients need 7.1 and 7.3.
            let x = Tensor([0.5, -1, 2, 0.25], shape: [2, 2]).transposed()
            let numeric = numericalGradient(of: x) { noGrad { (x * x).sum() }.item() }
            let expected = x.toArray().map { 2 * Double($0) }
            for (n, e) in zip(numeric, expected) {
                #expect(Swift.abs(n - e) < 1e-3, "∂(Σx²)/∂x = 2x: expected \(expected), got \(numeric)")
            }
        }
    }

    // MARK: 7.4 — the worst element

    @Suite("7.4 gradcheckReport") struct Exercise_7_4 {
        @Test func theElementThatMissesItsToleranceMost() {
            // Element 0 is off by 0.5 but allowed 0.01 + 0.01·100 = 1.01; element 5 is off by 0.1, allowed 0.01.
            let report = gradcheckReport(input: 0, shape: [2, 3], analytic: [100.5, 1, 2, 3, 4, 0.1],
                                         numerical: [100, 1, 2, 3, 4, 0], atol: 0.01, rtol: 0.01)
            #expect(!report.passed)
            #expect(report.worstIndex == [1, 2],
                    "flat position 5 of shape [2, 3] is [1, 2]: the only element out of tolerance; got \(report.worstIndex)\(report.worstIndex == [0, 0] ? " — the largest absolute error is within its (large) tolerance; pick the element that misses its tolerance by the most" : "")")
            #expect(report.analytic == 0.1 && report.numerical == 0 && Swift.abs(report.absoluteError - 0.1) < 1e-12)
        }

        @Test func nanTiesAndPassingInputs() {
            let withNaN = gradcheckReport(input: 0, shape: [3], analytic: [1, .nan, 5], numerical: [1, 1, 1], atol: 0.01, rtol: 0.01)
            #expect(withNaN.worstIndex == [1], "a NaN error is the worst of all: expected [1], got \(withNaN.worstIndex) — NaN > worst is false: count a NaN error as an excess of Double.infinity")
            let allPass = gradcheckReport(input: 0, shape: [1, 3], analytic: [1, 1.002, 1.001], numerical: [1, 1, 1], atol: 0.01, rtol: 0)
            #expect(allPass.passed && allPass.worstIndex == [0, 1],
                    "every element passes; the worst is still the one closest to failing, [0, 1], got \(allPass.worstIndex)\(allPass.worstIndex == [0, 0] ? " — start the running worst at -Double.infinity, not 0: when everything passes, every excess is negative" : "")")
            let tie = gradcheckReport(input: 0, shape: [4], analytic: [0, 2, 0, 2], numerical: [0, 0, 0, 0], atol: 0.01, rtol: 0)
            #expect(tie.worstIndex == [1], "elements 1 and 3 miss by the same amount: on a tie keep the first, [1]; got \(tie.worstIndex)")
        }

        @Test func gradcheckPassesCorrectRulesAndCatchesABrokenOne() {
            let x = Tensor(numbers(6, seed: 71), shape: [2, 3], requiresGrad: true)
            let good = gradcheck([x]) { $0[0].sigmoid() }
            #expect(good.passed, "sigmoid's backward rule is right:\n\(good)")
            let bad = gradcheck([x]) { sigmoidMissingAFactor($0[0]) }
            #expect(!bad.passed, "a backward rule missing the (1 − s) factor must fail:\n\(bad)")
            #expect(bad.inputs.count == 1 && bad.inputs[0].absoluteError > bad.inputs[0].tolerance)
        }
    }

    // MARK: Milestone — every op of lessons 3–6 passes your gradcheck

    // Your backward rules (lesson 6), checked by your gradcheck (lesson 7), on
    // contiguous inputs, strided views and broadcast operands.
    @Suite("Milestone: every op checked") struct EveryOp {
        struct Op: Sendable, CustomTestStringConvertible {
            let name: String
            let shapes: [[Int]]
            var low: Float = -2, high: Float = 2
            /// Inputs pushed ±0.3 away from 0, so a finite difference never straddles a kink at 0.
            var awayFromZero = false
            let f: @Sendable ([Tensor]) -> Tensor
            var testDescription: String { name }
        }

        static let ops: [Op] = [
            Op(name: "a + b (broadcast [3, 1] and [4])", shapes: [[3, 1], [4]]) { $0[0] + $0[1] },
            Op(name: "a − b (broadcast [2, 3] and [3])", shapes: [[2, 3], [3]]) { $0[0] - $0[1] },
            Op(name: "a · b", shapes: [[2, 3], [2, 3]]) { $0[0] * $0[1] },
            Op(name: "a / b", shapes: [[2, 3], [1, 3]], low: 0.5, high: 2) { $0[0] / $0[1] },
            Op(name: "x · x (a value used twice)", shapes: [[4]]) { $0[0] * $0[0] },
            Op(name: "exp", shapes: [[2, 3]]) { $0[0].exp() },
            Op(name: "log", shapes: [[2, 3]], low: 0.5, high: 2) { $0[0].log() },
            Op(name: "tanh", shapes: [[2, 3]]) { $0[0].tanh() },
            Op(name: "sigmoid", shapes: [[2, 3]]) { $0[0].sigmoid() },
            Op(name: "relu (inputs away from 0)", shapes: [[2, 3]], awayFromZero: true) { $0[0].relu() },
            Op(name: "sum(axis: 1)", shapes: [[2, 3, 4]]) { $0[0].sum(axis: 1) },
            Op(name: "mean()", shapes: [[2, 3]]) { $0[0].mean() },
            Op(name: "softmax(axis: -1)", shapes: [[2, 4]]) { $0[0].softmax(axis: -1) },
            Op(name: "logsumexp(axis: 0)", shapes: [[3, 2]]) { $0[0].logsumexp(axis: 0) },
            Op(name: "matmul", shapes: [[2, 3], [3, 4]]) { $0[0].matmul($0[1]) },
            Op(name: "transposed + matmul", shapes: [[3, 2], [3, 4]]) { $0[0].transposed().matmul($0[1]) },
            Op(name: "sliced(step: 2) · reshaped", shapes: [[2, 6]]) {
                $0[0].sliced(axis: 1, from: 1, step: 2).reshaped([3, 2]) * 2
            },
            Op(name: "a linear layer + tanh", shapes: [[4, 3], [3, 2], [2]]) { ($0[0].matmul($0[1]) + $0[2]).tanh() },
        ]

        static func values(_ op: Op, _ count: Int, seed: UInt64) -> [Float] {
            let raw = numbers(count, seed: seed, op.low, op.high)
            return op.awayFromZero ? raw.map { $0 < 0 ? $0 - 0.3 : $0 + 0.3 } : raw
        }

        @Test(arguments: ops)
        func contiguousInputs(_ op: Op) {
            let xs = op.shapes.enumerated().map { i, shape in
                Tensor(Self.values(op, elementCount(shape), seed: UInt64(100 + i)), shape: shape, requiresGrad: true)
            }
            let report = gradcheck(xs, atol: 1e-3, rtol: 1e-3) { op.f($0) }
            #expect(report.passed, "\(op.name):\n\(report)\(whereItGoesWrong(inputs: xs) { op.f($0) })")
        }

        @Test(arguments: ops)
        func stridedInputs(_ op: Op) {
            // Each input is the transpose of a contiguous tensor: a leaf with strides out of order.
            let xs = op.shapes.enumerated().map { i, shape -> Tensor in
                let values = Self.values(op, elementCount(shape), seed: UInt64(200 + i))
                let x = shape.count == 2 ? Tensor(values, shape: [shape[1], shape[0]]).transposed() : Tensor(values, shape: shape)
                x.requiresGrad = true
                return x
            }
            let report = gradcheck(xs, atol: 1e-3, rtol: 1e-3) { op.f($0) }
            #expect(report.passed, "\(op.name), strided inputs \(xs.map(\.strides)):\n\(report)\(whereItGoesWrong(inputs: xs) { op.f($0) })")
        }
    }
}
