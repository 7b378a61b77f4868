import Foundation
import Testing
// `@testable` for `Tensor.record`: the tests build ops with deliberately wrong
// backward rules and expect gradcheck to catch every one of them.
import Kindling

// Hidden tests of lesson 7 (gradient checking). The grader maps each test to
// its exercise by the suite name `Exercise_7_N`; each suite uses only its own
// exercise and earlier ones. They probe what the visible tests do not: exact
// answers that expose a one-sided difference or a missing factor 2, NaN and
// infinities, tolerances on the boundary, negative gradients, views with
// offsets and strides, scalars and empty tensors, and a catalogue of broken
// backward rules that a working gradcheck must reject.

/// |a − b| ≤ tolerance · max(1, |b|).
private func near(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
    Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

/// What a wrong central difference usually means, from its value.
private func differenceHint(got: Double, central: Double, oneSided: Double, overH: Double) -> String {
    if near(got, oneSided, 1e-9) { return " — that is the one-sided difference (f(x + h) − f(x)) / h; use f(x + h) − f(x − h)" }
    if near(got, overH, 1e-9) { return " — that is twice the answer: divide by 2h, not h" }
    if near(got, -central, 1e-9) { return " — the sign is wrong: f(x + h) comes first" }
    return ""
}

/// Uniform numbers in [lo, hi) from a fixed seed.
private func uniformNumbers(_ count: Int, seed: UInt64, _ lo: Float = -2, _ hi: Float = 2) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in lo + (hi - lo) * g.nextUnitFloat() }
}

/// An op with the forward `forward` and the backward rule `rule` (given the
/// output's gradient, the saved input and the saved output).
private func customOp(_ name: String, _ x: Tensor, forward: (Tensor) -> Tensor,
                      rule: @escaping (_ g: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor) -> Tensor {
    let y = noGrad { forward(x) }
    let savedX = x.detach(), savedY = y.detach()
    return Tensor.record(y, op: name, inputs: [x]) { g in [rule(g, savedX, savedY)] }
}

// MARK: - 7.1 centralDifference

@Suite struct Exercise_7_1 {
    @Test func exactOnAQuadraticForAnyStep() {
        // (f(x+h) − f(x−h)) / 2h is exact for a quadratic: 3x² − 2x + 1 has f′(0.75) = 2.5.
        let f: (Double) -> Double = { 3 * $0 * $0 - 2 * $0 + 1 }
        for h in [0.5, 0.125, 1e-3] {
            let got = centralDifference(at: 0.75, step: h, f)
            #expect(near(got, 2.5, 1e-9),
                    "central difference of 3x² − 2x + 1 at 0.75 with h = \(h) should be exactly 2.5, got \(got)\(differenceHint(got: got, central: 2.5, oneSided: 2.5 + 3 * h, overH: 5))")
        }
    }

    @Test func aLineHasSlopeOneWhateverTheStep() {
        let got = centralDifference(at: -4, step: 2) { $0 }
        #expect(near(got, 1, 1e-12), "the slope of f(x) = x is 1, got \(got)\(near(got, 2, 1e-12) ? " — divide by 2h, not h" : "")")
    }

    @Test func usesThePointItIsGiven() {
        // x³ at −3 with h = 0.5: 3x² + h² = 27.25.
        let got = centralDifference(at: -3, step: 0.5) { $0 * $0 * $0 }
        #expect(near(got, 27.25, 1e-12),
                "central difference of x³ at −3, h = 0.5, is 3·9 + 0.25 = 27.25, got \(got)\(differenceHint(got: got, central: 27.25, oneSided: 27 - 4.5 + 0.25, overH: 54.5))")
    }

    @Test func callsTheFunctionTwice() {
        var calls: [Double] = []
        _ = centralDifference(at: 1, step: 0.25) { x in calls.append(x); return x * x }
        #expect(calls.sorted() == [0.75, 1.25],
                "a central difference evaluates f at x − h and x + h, nothing else; it evaluated f at \(calls)")
    }

    @Test func errorShrinksLikeTheSquareOfTheStep() {
        // exp at 0.5: a central difference's error is ≈ f‴·h²/6; a one-sided one's ≈ f″·h/2.
        let exact = Foundation.exp(0.5)
        let e1 = Swift.abs(centralDifference(at: 0.5, step: 1e-2, Foundation.exp) - exact)
        let e2 = Swift.abs(centralDifference(at: 0.5, step: 1e-3, Foundation.exp) - exact)
        #expect(e1 < 1e-4 && e1 / e2 > 80 && e1 / e2 < 120,
                "10× smaller steps should make the error ~100× smaller (h²): errors \(e1) and \(e2), ratio \(e1 / e2)\(e1 / e2 < 20 ? " — a ratio near 10 means a one-sided difference" : "")")
    }

    @Test func negativeSlopes() {
        let got = centralDifference(at: 2, step: 0.01) { 1 / $0 }
        #expect(near(got, -0.25, 1e-4), "d(1/x)/dx at 2 is −1/4, got \(got)")
    }
}

// MARK: - 7.2 gradientsAgree

@Suite struct Exercise_7_2 {
    @Test func theBoundaryCountsAsAgreeing() {
        // Exactly representable: error 0.5, allowed 0.25 + 0.25·1 = 0.5.
        #expect(gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.25), "|a − n| equal to atol + rtol·|n| agrees (≤, not <)")
        #expect(!gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.24), "just past the tolerance fails")
    }

    @Test func toleranceScalesWithTheNumericalGradient() {
        // error 1; allowed 0.6·|numerical|. Scaling by |analytic| would allow 1.2.
        #expect(!gradientsAgree(2, 1, atol: 0, rtol: 0.6),
                "the relative part is rtol·|numerical| — the finite difference is the reference: 0.6·1 < 1")
        #expect(gradientsAgree(1, 2, atol: 0, rtol: 0.6), "0.6·|2| = 1.2 ≥ 1")
    }

    @Test func negativeGradients() {
        #expect(gradientsAgree(-10.5, -10, atol: 0, rtol: 0.1),
                "rtol·|numerical| uses the absolute value: 0.1·|−10| = 1 ≥ 0.5")
        #expect(!gradientsAgree(10, -10, atol: 1e-3, rtol: 1e-3), "opposite signs are 20 apart")
        #expect(gradientsAgree(-1e-9, 1e-9, atol: 1e-6, rtol: 0), "tiny gradients of either sign agree within atol")
    }

    @Test func nanAndInfinityNeverAgree() {
        for (a, n) in [(Double.nan, 0.0), (0, .nan), (.nan, .nan), (.infinity, .infinity), (.infinity, 1), (-.infinity, 2)] {
            #expect(!gradientsAgree(a, n, atol: 1e-2, rtol: 1e-2),
                    "autograd \(a) against numerical \(n) must not agree — a NaN or infinite gradient is always a failure (write the test as `error <= allowed`, which is false for NaN)")
        }
    }

    @Test func atolAloneAndRtolAlone() {
        #expect(gradientsAgree(0.009, 0, atol: 0.01, rtol: 0.5))
        #expect(!gradientsAgree(0.011, 0, atol: 0.01, rtol: 0.5), "at 0 only atol is left: 0.011 > 0.01")
        #expect(gradientsAgree(104, 100, atol: 0, rtol: 0.05))
        #expect(!gradientsAgree(106, 100, atol: 0, rtol: 0.05), "with atol 0 only 5% of 100 is allowed")
    }
}

// MARK: - 7.3 withElement

@Suite struct Exercise_7_3 {
    @Test func putsBackTheExactBits() {
        let x = Tensor([0.1, 1e-7, -3.3, 123_456.79])
        let before = x.toArray().map(\.bitPattern)
        for i in 0..<4 {
            _ = withElement(of: x, at: [i], setTo: 0.37) { 0 }
            _ = withElement(of: x, at: [i], setTo: .infinity) { 0 }
        }
        let after = x.toArray().map(\.bitPattern)
        #expect(after == before, "every element must come back bit for bit (save the original and write it back); got \(x.toArray())")
    }

    @Test func theBodySeesTheNewValueAndItsResultIsReturned() {
        let x = Tensor([1, 2, 3])
        let result = withElement(of: x, at: [2], setTo: 10) { x.toArray().reduce(0, +) }
        #expect(result == 13, "inside the body x is [1, 2, 10], so its sum is 13; got \(result)")
        #expect(x.toArray() == [1, 2, 3])
    }

    @Test func aSliceWithAnOffsetAndAStep() {
        let base = Tensor((0..<12).map(Float.init), shape: [3, 4])
        let view = base.sliced(axis: 1, from: 1, step: 2)  // columns 1 and 3, offset 1, strides [4, 2]
        let seen = withElement(of: view, at: [2, 1], setTo: -1) { base.toArray() }
        var expected = (0..<12).map(Float.init)
        expected[11] = -1
        #expect(seen == expected,
                "element [2, 1] of the view is storage slot 1 + 2·4 + 1·2 = 11 (offset + index·strides); the base read \(seen)")
        #expect(base.toArray() == (0..<12).map(Float.init), "and afterwards slot 11 is 11 again")
    }

    @Test func aPermutedView() {
        let base = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let view = base.permuted([2, 0, 1])  // shape [4, 2, 3], strides [1, 12, 4]
        let got = withElement(of: view, at: [3, 1, 2], setTo: 99) { base[1, 2, 3] }
        #expect(got == 99, "view[3, 1, 2] is base[1, 2, 3] (slot 3 + 12 + 8 = 23); base[1, 2, 3] read \(got) inside the body")
        #expect(base[1, 2, 3] == 23)
    }

    @Test func aScalarTensor() {
        let x = Tensor(scalar: 2.5)
        let got = withElement(of: x, at: [], setTo: -7) { x.item() }
        #expect(got == -7 && x.item() == 2.5, "a scalar's only element has index []; inside \(got), after \(x.item())")
    }

    @Test func nestedCallsRestoreBoth() {
        let x = Tensor([1, 2, 3, 4], shape: [2, 2])
        let inside = withElement(of: x, at: [0, 1], setTo: 20) {
            withElement(of: x, at: [1, 0], setTo: 30) { x.toArray() }
        }
        #expect(inside == [1, 20, 30, 4], "got \(inside)")
        #expect(x.toArray() == [1, 2, 3, 4], "both elements restored; got \(x.toArray())")
    }

    @Test func numericalGradientOnAStridedView() {
        // f = Σ c ⊙ x³ has ∂f/∂x = 3c·x², checked on a transposed leaf.
        let x = Tensor(uniformNumbers(6, seed: 731), shape: [3, 2]).transposed()
        let c = Tensor([1, -2, 0.5, 3, 1.5, -1], shape: [2, 3])
        let numeric = numericalGradient(of: x) { noGrad { (c * x * x * x).sum() }.item() }
        let xv = x.toArray(), cv = c.toArray()
        let expected = (0..<6).map { 3 * cv[$0] * xv[$0] * xv[$0] }
        expectValues("numericalGradient of Σ c·x³ over a transposed x", Tensor(numeric.map(Float.init), shape: [2, 3]),
                     expected, shape: [2, 3], atol: 5e-3, rtol: 5e-3)
    }
}

// MARK: - 7.4 gradcheckReport and gradcheck

@Suite struct Exercise_7_4 {
    @Test func theWorstIsTheOneMissingItsToleranceMost() {
        let report = gradcheckReport(input: 2, shape: [4], analytic: [50.4, 0.03, 1, -2], numerical: [50, 0, 1, -2],
                                     atol: 0.01, rtol: 0.01)
        #expect(report.input == 2)
        #expect(!report.passed, "element 1 is off by 0.03 with 0.01 allowed: the check fails")
        #expect(report.worstIndex == [1],
                "element 0 is off by 0.4 but allowed 0.51; element 1 is off by 0.03 and allowed 0.01 — it misses by the most; got \(report.worstIndex)\(report.worstIndex == [0] ? " (the largest absolute error is not the worst: compare each error with its own tolerance)" : "")")
        #expect(near(report.absoluteError, 0.03, 1e-12) && near(report.tolerance, 0.01, 1e-12),
                "at the worst element |error| 0.03 and tolerance 0.01; got \(report.absoluteError) and \(report.tolerance)")
    }

    @Test func multiIndicesOfHigherRanks() {
        var analytic = [Double](repeating: 1, count: 24)
        analytic[17] = 5  // [1, 1, 1] in shape [2, 3, 4]
        let report = gradcheckReport(input: 0, shape: [2, 3, 4], analytic: analytic,
                                     numerical: [Double](repeating: 1, count: 24), atol: 1e-3, rtol: 1e-3)
        #expect(report.worstIndex == [1, 1, 1], "flat position 17 of shape [2, 3, 4] is [1, 1, 1] (17 = 1·12 + 1·4 + 1); got \(report.worstIndex)")
        #expect(report.analytic == 5 && report.numerical == 1 && report.absoluteError == 4)
        #expect(!report.passed)
    }

    @Test func aNaNIsTheWorstOfAll() {
        let report = gradcheckReport(input: 0, shape: [2, 2], analytic: [10, 1, .nan, 1], numerical: [0, 1, 1, 1],
                                     atol: 1e-2, rtol: 1e-2)
        #expect(report.worstIndex == [1, 0],
                "a NaN misses its tolerance by more than anything (even an error of 10); got \(report.worstIndex) — compare `excess > worst` is false for NaN, so treat a NaN error as infinite")
        #expect(!report.passed)
    }

    @Test func allAgreeingPasses() {
        let report = gradcheckReport(input: 1, shape: [3], analytic: [1, 2.001, 3], numerical: [1, 2, 3.0005],
                                     atol: 1e-2, rtol: 1e-2)
        #expect(report.passed, "every element is within tolerance: \(report)")
        #expect(report.worstIndex.count == 1 && (0..<3).contains(report.worstIndex[0]),
                "a passing report still names an element of shape [3]; got \(report.worstIndex)")
    }

    @Test func anEmptyInputPasses() {
        let report = gradcheckReport(input: 0, shape: [0, 3], analytic: [], numerical: [], atol: 1e-2, rtol: 1e-2)
        #expect(report.passed && report.worstIndex == [], "no elements, nothing wrong: passed, worstIndex []; got \(report)")
    }

    @Test func gradcheckRejectsBrokenBackwardRules() {
        let x = Tensor(uniformNumbers(6, seed: 741, 0.5, 2), shape: [2, 3], requiresGrad: true)
        let broken: [(String, (Tensor) -> Tensor)] = [
            ("exp with the sign flipped", { customOp("exp", $0, forward: { $0.exp() }, rule: { g, _, y in -(g * y) }) }),
            ("x² with the factor 2 forgotten", { customOp("square", $0, forward: { $0 * $0 }, rule: { g, x, _ in g * x }) }),
            ("log returning x instead of 1/x", { customOp("log", $0, forward: { $0.log() }, rule: { g, x, _ in g * x }) }),
            ("tanh using 1 − x² instead of 1 − y²", { customOp("tanh", $0, forward: { $0.tanh() }, rule: { g, x, _ in g * (1 - x * x) }) }),
            ("a gradient that ignores the incoming one", { customOp("sigmoid", $0, forward: { $0.sigmoid() }, rule: { _, _, y in y * (1 - y) }) }),
            ("an op that forgot to record itself", { x in noGrad { x.exp() } }),
        ]
        for (name, f) in broken {
            let report = gradcheck([x]) { f($0[0]) }
            #expect(!report.passed, "gradcheck must reject \(name):\n\(report)")
        }
        let correct = gradcheck([x]) { customOp("exp", $0[0], forward: { $0.exp() }, rule: { g, _, y in g * y }) }
        #expect(correct.passed, "and accept a correct rule:\n\(correct)")
    }

    @Test func gradcheckFindsTheOneWrongElement() {
        // A rule that is right everywhere except at flat position 4.
        let x = Tensor(uniformNumbers(6, seed: 742), shape: [3, 2], requiresGrad: true)
        let report = gradcheck([x]) {
            customOp("almost", $0[0], forward: { $0 * 3 }, rule: { g, _, _ in
                var grad = (g * 3).toArray()
                grad[4] += 1
                return Tensor(grad, shape: g.shape)
            })
        }
        #expect(!report.passed && report.inputs.first?.worstIndex == [2, 0],
                "the only wrong element is [2, 0]; the report names \(report.inputs.first.map { "\($0.worstIndex)" } ?? "nothing")")
    }

    @Test func gradcheckOnStridedAndBroadcastInputs() {
        // A transposed leaf, a sliced leaf with an offset, and a row that broadcasts.
        let a = Tensor(uniformNumbers(12, seed: 743), shape: [4, 3]).transposed()
        let b = Tensor(uniformNumbers(24, seed: 744), shape: [3, 8]).sliced(axis: 1, from: 1, to: 8, step: 2)  // [3, 4]
        let c = Tensor(uniformNumbers(4, seed: 745), shape: [4])
        for t in [a, b, c] { t.requiresGrad = true }
        let report = gradcheck([a, b, c], atol: 1e-3, rtol: 1e-3) { xs in ((xs[0] * xs[1] + xs[2]).tanh() * xs[2]).sum(axis: 0) }
        #expect(report.inputs.count == 3 && report.passed, "every input checked and correct:\n\(report)")
    }

    @Test func everyOpOfLessonsThreeToSix() {
        // The same check the lesson's milestone runs: your backward rules, your gradcheck.
        let ops: [(String, [[Int]], Float, Float, ([Tensor]) -> Tensor)] = [
            ("a · b broadcast", [[2, 1, 3], [4, 1]], -2, 2, { $0[0] * $0[1] }),
            ("a / b", [[3, 2], [2]], 0.5, 2, { $0[0] / $0[1] }),
            ("exp · log", [[2, 3]], 0.5, 2, { $0[0].exp() * $0[0].log() }),
            ("sigmoid − tanh", [[5]], -2, 2, { $0[0].sigmoid() - $0[0].tanh() }),
            ("mean(axis: 0)", [[3, 4]], -2, 2, { $0[0].mean(axis: 0) }),
            ("sum()", [[2, 2, 2]], -2, 2, { $0[0].sum() }),
            ("softmax(axis: 0)", [[3, 2]], -2, 2, { $0[0].softmax(axis: 0) }),
            ("logsumexp(axis: 1)", [[2, 5]], -2, 2, { $0[0].logsumexp(axis: 1) }),
            ("batched matmul", [[2, 2, 3], [3, 2]], -1, 1, { $0[0].matmul($0[1]) }),
            ("matrix · vector", [[3, 4], [4]], -1, 1, { $0[0].matmul($0[1]) }),
            ("permuted + reshaped", [[2, 3, 2]], -2, 2, { $0[0].permuted([2, 0, 1]).reshaped([4, 3]) * 1.5 }),
            ("expanded", [[3, 1]], -2, 2, { $0[0].expanded(to: [2, 3, 4]).tanh() }),
        ]
        for (k, (name, shapes, lo, hi, f)) in ops.enumerated() {
            let xs = shapes.enumerated().map { i, shape in
                Tensor(uniformNumbers(elementCount(shape), seed: UInt64(750 + 10 * k + i), lo, hi), shape: shape, requiresGrad: true)
            }
            let report = gradcheck(xs, atol: 1e-3, rtol: 1e-3, f)
            #expect(report.passed, "\(name):\n\(report)")
        }
    }
}
