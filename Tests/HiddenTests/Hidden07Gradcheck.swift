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
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), and runs a small case drawn from the grading seed
// next to its hand-worked one.

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

/// Observes `got`, which a check accepts within `tolerance`·max(1, |expected|) of `expected`:
/// the reference's value is there too, so any two accepted values are within twice that.
private func observeNear(_ what: String, _ got: Double, expected: Double, _ tolerance: Double) {
    observe(what, got, atol: 2 * tolerance * Swift.max(1, Swift.abs(expected)))
}

/// A multiple of 1/16 in [−limit, limit] (sums and products of a few of them are exact in Double).
private func dyadic(_ g: inout SeededGenerator, limit: Double = 25) -> Double {
    Double(Int.random(in: -Int(limit * 16)...Int(limit * 16), using: &g)) / 16
}

/// Runs `gradientsAgree` on `count` cases drawn by `make`, checks each against
/// |a − n| ≤ atol + rtol·|n| (exact for the dyadic numbers drawn), and observes the answers as 1/0.
private func checkDrawnAgreements(_ what: String, seed: UInt64, count: Int = 24,
                                  _ make: (inout SeededGenerator) -> (a: Double, n: Double, atol: Double, rtol: Double),
                                  sourceLocation: SourceLocation = #_sourceLocation) {
    var g = SeededGenerator(seed: graded(seed))
    var answers: [Int] = []
    for _ in 0..<count {
        let c = make(&g)
        let got = gradientsAgree(c.a, c.n, atol: c.atol, rtol: c.rtol)
        let expected = Swift.abs(c.a - c.n) <= c.atol + c.rtol * Swift.abs(c.n)
        #expect(got == expected,
                "gradientsAgree(\(c.a), \(c.n), atol: \(c.atol), rtol: \(c.rtol)) should be \(expected): |a − n| = \(Swift.abs(c.a - c.n)), allowed atol + rtol·|numerical| = \(c.atol + c.rtol * Swift.abs(c.n)) (≤ agrees; NaN never does)",
                sourceLocation: sourceLocation)
        answers.append(got ? 1 : 0)
    }
    observe("gradientsAgree on \(count) drawn cases — \(what) (1 agrees, 0 does not)", answers)
}

/// The test's own worst element of a report: the largest excess |a − n| − (atol + rtol·|n|),
/// a NaN error counting as +∞, the first on a tie; and whether every element agrees.
private func expectedWorst(_ analytic: [Double], _ numerical: [Double], atol: Double, rtol: Double) -> (flat: Int, passed: Bool) {
    var worst = 0, worstExcess = -Double.infinity, passed = true
    for i in analytic.indices {
        let error = Swift.abs(analytic[i] - numerical[i])
        let allowed = atol + rtol * Swift.abs(numerical[i])
        let excess = error.isNaN ? Double.infinity : error - allowed
        if excess > worstExcess { (worst, worstExcess) = (i, excess) }
        if !(error <= allowed) { passed = false }
    }
    return (worst, passed)
}

/// Observes every field of a report (`what` names the case).
private func observeReport(_ what: String, _ report: GradcheckInputReport) {
    observe("\(what): the report's input", report.input)
    observe("\(what): the report's worstIndex", report.worstIndex)
    observe("\(what): whether the report passed", report.passed)
    observe("\(what): the analytic and numerical gradients at the worst element", [report.analytic, report.numerical])
    observe("\(what): |error| and tolerance at the worst element", [report.absoluteError, report.tolerance], rtol: 1e-12)
}

/// Checks a report against the test's own worst element (`expectedWorst`) and observes it.
private func checkDrawnReport(_ what: String, input: Int, shape: [Int], analytic: [Double], numerical: [Double],
                              atol: Double, rtol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    let report = gradcheckReport(input: input, shape: shape, analytic: analytic, numerical: numerical, atol: atol, rtol: rtol)
    let (flat, passed) = expectedWorst(analytic, numerical, atol: atol, rtol: rtol)
    let index = rowMajorIndex(flat, shape: shape)
    let ok = report.input == input && report.passed == passed && report.worstIndex == index
        && report.analytic.bitPattern == analytic[flat].bitPattern && report.numerical.bitPattern == numerical[flat].bitPattern
    #expect(ok, "\(what) (shape \(shape), atol \(atol), rtol \(rtol)): expected input \(input), passed \(passed), worstIndex \(index) — the element whose error misses its own tolerance atol + rtol·|numerical| by the most (a NaN error is the worst of all) — with analytic \(analytic[flat]) and numerical \(numerical[flat]); got \(report)",
            sourceLocation: sourceLocation)
    observeReport(what, report)
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
            observeNear("the central difference of 3x² − 2x + 1 at 0.75 with h = \(h)", got, expected: 2.5, 1e-9)
        }

        // Drawn from the grading seed: other quadratics, points and steps.
        var g = SeededGenerator(seed: graded(7101))
        for _ in 0..<4 {
            let (a, b, c, x) = (dyadic(&g, limit: 4), dyadic(&g, limit: 4), dyadic(&g, limit: 4), dyadic(&g, limit: 3))
            let h = [0.5, 0.25, 0.125, 1e-3].randomElement(using: &g)!
            let got = centralDifference(at: x, step: h) { a * $0 * $0 + b * $0 + c }
            let exact = 2 * a * x + b
            #expect(near(got, exact, 1e-9),
                    "central difference of \(a)x² + \(b)x + \(c) at \(x) with h = \(h) should be exactly \(exact), got \(got)\(differenceHint(got: got, central: exact, oneSided: exact + a * h, overH: 2 * exact))")
            observeNear("the central difference of \(a)x² + \(b)x + \(c) at \(x) with h = \(h)", got, expected: exact, 1e-9)
        }
    }

    @Test func aLineHasSlopeOneWhateverTheStep() {
        let got = centralDifference(at: -4, step: 2) { $0 }
        #expect(near(got, 1, 1e-12), "the slope of f(x) = x is 1, got \(got)\(near(got, 2, 1e-12) ? " — divide by 2h, not h" : "")")
        observeNear("the central difference of f(x) = x at −4 with h = 2", got, expected: 1, 1e-12)

        // Drawn from the grading seed: other lines, points and steps (all exact in Double).
        var g = SeededGenerator(seed: graded(7102))
        for _ in 0..<4 {
            let (m, k, x) = (dyadic(&g, limit: 8), dyadic(&g, limit: 8), dyadic(&g, limit: 8))
            let h = Double(Int.random(in: 1...16, using: &g)) / 4
            let slope = centralDifference(at: x, step: h) { m * $0 + k }
            #expect(near(slope, m, 1e-12), "the slope of f(x) = \(m)x + \(k) at \(x), h = \(h), is \(m), got \(slope)\(near(slope, 2 * m, 1e-12) && m != 0 ? " — divide by 2h, not h" : "")")
            observeNear("the central difference of f(x) = \(m)x + \(k) at \(x) with h = \(h)", slope, expected: m, 1e-12)
        }
    }

    @Test func usesThePointItIsGiven() {
        // x³ at −3 with h = 0.5: 3x² + h² = 27.25.
        let got = centralDifference(at: -3, step: 0.5) { $0 * $0 * $0 }
        #expect(near(got, 27.25, 1e-12),
                "central difference of x³ at −3, h = 0.5, is 3·9 + 0.25 = 27.25, got \(got)\(differenceHint(got: got, central: 27.25, oneSided: 27 - 4.5 + 0.25, overH: 54.5))")
        observeNear("the central difference of x³ at −3 with h = 0.5", got, expected: 27.25, 1e-12)

        // Drawn from the grading seed: other points and steps (3x² + h² for x³).
        var g = SeededGenerator(seed: graded(7103))
        for _ in 0..<4 {
            let x = dyadic(&g, limit: 4), h = Double(Int.random(in: 1...8, using: &g)) / 8
            let cube = centralDifference(at: x, step: h) { $0 * $0 * $0 }
            let exact = 3 * x * x + h * h
            #expect(near(cube, exact, 1e-12),
                    "central difference of x³ at \(x), h = \(h), is 3x² + h² = \(exact), got \(cube)\(differenceHint(got: cube, central: exact, oneSided: 3 * x * x + 3 * x * h + h * h, overH: 2 * exact))")
            observeNear("the central difference of x³ at \(x) with h = \(h)", cube, expected: exact, 1e-12)
        }
    }

    @Test func callsTheFunctionTwice() {
        var calls: [Double] = []
        _ = centralDifference(at: 1, step: 0.25) { x in calls.append(x); return x * x }
        #expect(calls.sorted() == [0.75, 1.25],
                "a central difference evaluates f at x − h and x + h, nothing else; it evaluated f at \(calls)")
        observe("the points f was evaluated at for x = 1, h = 0.25, in increasing order", calls.sorted())

        // Drawn from the grading seed: another point and step.
        var g = SeededGenerator(seed: graded(7104))
        let x = dyadic(&g), h = Double(Int.random(in: 1...32, using: &g)) / 16
        var seen: [Double] = []
        let value = centralDifference(at: x, step: h) { v in seen.append(v); return v * v }
        #expect(seen.sorted() == [x - h, x + h],
                "a central difference evaluates f at x − h and x + h, nothing else; for x = \(x), h = \(h) it evaluated f at \(seen)")
        observe("the points f was evaluated at for x = \(x), h = \(h), in increasing order", seen.sorted())
        observeNear("the central difference of x² at \(x) with h = \(h)", value, expected: 2 * x, 1e-12)
    }

    @Test func errorShrinksLikeTheSquareOfTheStep() {
        // exp at 0.5: a central difference's error is ≈ f‴·h²/6; a one-sided one's ≈ f″·h/2.
        let exact = Foundation.exp(0.5)
        let e1 = Swift.abs(centralDifference(at: 0.5, step: 1e-2, Foundation.exp) - exact)
        let e2 = Swift.abs(centralDifference(at: 0.5, step: 1e-3, Foundation.exp) - exact)
        #expect(e1 < 1e-4 && e1 / e2 > 80 && e1 / e2 < 120,
                "10× smaller steps should make the error ~100× smaller (h²): errors \(e1) and \(e2), ratio \(e1 / e2)\(e1 / e2 < 20 ? " — a ratio near 10 means a one-sided difference" : "")")
        observe("the error with h = 1e−2 of the central difference of exp at 0.5", e1, atol: 1e-4)
        observe("the ratio of the errors with h = 1e−2 and 1e−3 of the central difference of exp at 0.5", e1 / e2, atol: 40)

        // Drawn from the grading seed: another point.
        var g = SeededGenerator(seed: graded(7105))
        let x = Double.random(in: -1...1, using: &g)
        let d1 = centralDifference(at: x, step: 1e-2, Foundation.exp), d2 = centralDifference(at: x, step: 1e-3, Foundation.exp)
        let (f1, f2) = (Swift.abs(d1 - Foundation.exp(x)), Swift.abs(d2 - Foundation.exp(x)))
        #expect(f1 < 1e-4 && f1 / f2 > 80 && f1 / f2 < 120,
                "at x = \(x), 10× smaller steps should make the error of the central difference of exp ~100× smaller (h²): errors \(f1) and \(f2), ratio \(f1 / f2)\(f1 / f2 < 20 ? " — a ratio near 10 means a one-sided difference" : "")")
        observe("the central difference of exp at \(x) with h = 1e−2", d1, atol: 2e-4)
        observe("the ratio of the errors with h = 1e−2 and 1e−3 of the central difference of exp at \(x)", f1 / f2, atol: 40)
    }

    @Test func negativeSlopes() {
        let got = centralDifference(at: 2, step: 0.01) { 1 / $0 }
        #expect(near(got, -0.25, 1e-4), "d(1/x)/dx at 2 is −1/4, got \(got)")
        observeNear("the central difference of 1/x at 2 with h = 0.01", got, expected: -0.25, 1e-4)

        // Drawn from the grading seed: other points.
        var g = SeededGenerator(seed: graded(7106))
        for _ in 0..<3 {
            let x = Double.random(in: 1.5...4, using: &g)
            let slope = centralDifference(at: x, step: 0.01) { 1 / $0 }
            #expect(near(slope, -1 / (x * x), 1e-4), "d(1/x)/dx at \(x) is −1/x² = \(-1 / (x * x)), got \(slope)")
            observeNear("the central difference of 1/x at \(x) with h = 0.01", slope, expected: -1 / (x * x), 1e-4)
        }
    }
}

// MARK: - 7.2 gradientsAgree

@Suite struct Exercise_7_2 {
    @Test func theBoundaryCountsAsAgreeing() {
        // Exactly representable: error 0.5, allowed 0.25 + 0.25·1 = 0.5.
        #expect(gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.25), "|a − n| equal to atol + rtol·|n| agrees (≤, not <)")
        #expect(!gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.24), "just past the tolerance fails")
        observe("gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.25)", gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.25))
        observe("gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.24)", gradientsAgree(1.5, 1, atol: 0.25, rtol: 0.24))

        // Drawn from the grading seed: errors exactly on the boundary, just inside and just past it.
        checkDrawnAgreements("on, just inside and just past the boundary", seed: 7201) { g in
            let n = dyadic(&g), atol = Double(Int.random(in: 0...16, using: &g)) / 16, rtol = Double(Int.random(in: 0...8, using: &g)) / 16
            let offset = [0, 0, 1.0 / 64, -1.0 / 64].randomElement(using: &g)!
            let error = atol + rtol * Swift.abs(n) + offset
            return (n + (Bool.random(using: &g) ? error : -error), n, atol, rtol)
        }
    }

    @Test func toleranceScalesWithTheNumericalGradient() {
        // error 1; allowed 0.6·|numerical|. Scaling by |analytic| would allow 1.2.
        #expect(!gradientsAgree(2, 1, atol: 0, rtol: 0.6),
                "the relative part is rtol·|numerical| — the finite difference is the reference: 0.6·1 < 1")
        #expect(gradientsAgree(1, 2, atol: 0, rtol: 0.6), "0.6·|2| = 1.2 ≥ 1")
        observe("gradientsAgree(2, 1, atol: 0, rtol: 0.6)", gradientsAgree(2, 1, atol: 0, rtol: 0.6))
        observe("gradientsAgree(1, 2, atol: 0, rtol: 0.6)", gradientsAgree(1, 2, atol: 0, rtol: 0.6))

        // Drawn from the grading seed: pairs where scaling by |analytic| instead of |numerical| gives the other answer.
        checkDrawnAgreements("the relative part scales with |numerical|", seed: 7202) { g in
            let small = Double(Int.random(in: 4...40, using: &g)) / 4, factor = Double(Int.random(in: 2...4, using: &g))
            let rtol = Double(Int.random(in: 5...12, using: &g)) / 16
            let (a, n) = Bool.random(using: &g) ? (small * factor, small) : (small, small * factor)
            return (a, n, 0, rtol)
        }
    }

    @Test func negativeGradients() {
        #expect(gradientsAgree(-10.5, -10, atol: 0, rtol: 0.1),
                "rtol·|numerical| uses the absolute value: 0.1·|−10| = 1 ≥ 0.5")
        #expect(!gradientsAgree(10, -10, atol: 1e-3, rtol: 1e-3), "opposite signs are 20 apart")
        #expect(gradientsAgree(-1e-9, 1e-9, atol: 1e-6, rtol: 0), "tiny gradients of either sign agree within atol")
        observe("gradientsAgree(−10.5, −10, atol: 0, rtol: 0.1)", gradientsAgree(-10.5, -10, atol: 0, rtol: 0.1))
        observe("gradientsAgree(10, −10, atol: 1e−3, rtol: 1e−3)", gradientsAgree(10, -10, atol: 1e-3, rtol: 1e-3))
        observe("gradientsAgree(−1e−9, 1e−9, atol: 1e−6, rtol: 0)", gradientsAgree(-1e-9, 1e-9, atol: 1e-6, rtol: 0))

        // Drawn from the grading seed: negative gradients, near each other or of opposite signs.
        checkDrawnAgreements("negative numerical gradients", seed: 7203) { g in
            let n = -Double(Int.random(in: 1...400, using: &g)) / 16
            let rtol = Double(Int.random(in: 0...4, using: &g)) / 16, atol = Double(Int.random(in: 0...4, using: &g)) / 16
            let a = Bool.random(using: &g) ? -n : n + Double(Int.random(in: -16...16, using: &g)) / 8
            return (a, n, atol, rtol)
        }
    }

    @Test func nanAndInfinityNeverAgree() {
        for (a, n) in [(Double.nan, 0.0), (0, .nan), (.nan, .nan), (.infinity, .infinity), (.infinity, 1), (-.infinity, 2)] {
            #expect(!gradientsAgree(a, n, atol: 1e-2, rtol: 1e-2),
                    "autograd \(a) against numerical \(n) must not agree — a NaN or infinite gradient is always a failure (write the test as `error <= allowed`, which is false for NaN)")
            observe("gradientsAgree(\(a), \(n), atol: 1e−2, rtol: 1e−2)", gradientsAgree(a, n, atol: 1e-2, rtol: 1e-2))
        }

        // Drawn from the grading seed: NaN and infinities mixed with finite pairs that agree or do not.
        checkDrawnAgreements("NaN and infinities among finite gradients", seed: 7204) { g in
            let n = dyadic(&g), atol = Double(Int.random(in: 1...8, using: &g)) / 16
            switch Int.random(in: 0..<4, using: &g) {
            case 0: return (.nan, n, atol, atol)
            case 1: return Bool.random(using: &g) ? (n, .nan, atol, atol) : (.infinity, .infinity, atol, atol)
            case 2: return (Bool.random(using: &g) ? .infinity : -.infinity, n, atol, atol)
            default: return (n + Double(Int.random(in: -4...4, using: &g)) / 16, n, atol, 0)
            }
        }
    }

    @Test func atolAloneAndRtolAlone() {
        #expect(gradientsAgree(0.009, 0, atol: 0.01, rtol: 0.5))
        #expect(!gradientsAgree(0.011, 0, atol: 0.01, rtol: 0.5), "at 0 only atol is left: 0.011 > 0.01")
        #expect(gradientsAgree(104, 100, atol: 0, rtol: 0.05))
        #expect(!gradientsAgree(106, 100, atol: 0, rtol: 0.05), "with atol 0 only 5% of 100 is allowed")
        observe("gradientsAgree with atol alone and with rtol alone, for (0.009, 0), (0.011, 0), (104, 100), (106, 100) (1 agrees, 0 does not)",
                [gradientsAgree(0.009, 0, atol: 0.01, rtol: 0.5), gradientsAgree(0.011, 0, atol: 0.01, rtol: 0.5),
                 gradientsAgree(104, 100, atol: 0, rtol: 0.05), gradientsAgree(106, 100, atol: 0, rtol: 0.05)].map { $0 ? 1 : 0 })

        // Drawn from the grading seed: numerical gradients of 0 (atol alone) and tolerances with atol 0 (rtol alone).
        checkDrawnAgreements("atol alone at 0, rtol alone elsewhere", seed: 7205) { g in
            let tolerance = Double(Int.random(in: 1...16, using: &g)) / 16
            let step = Double(Int.random(in: -24...24, using: &g)) / 16
            if Bool.random(using: &g) { return (step, 0, tolerance, Double(Int.random(in: 0...16, using: &g)) / 16) }
            let n = dyadic(&g)
            return (n + step, n, 0, tolerance / 4)
        }
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
        observe("the bit patterns of [0.1, 1e−7, −3.3, 123456.79] after setting each element and putting it back", after.map { Int($0) })

        // Drawn from the grading seed: other values (a transposed view), set to drawn values, NaN and ∞.
        var g = SeededGenerator(seed: graded(7301))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let values = (0..<(rows * cols)).map { _ in (Bool.random(using: &g) ? 1 : -1) * Float(bitPattern: UInt32.random(in: 0..<0x7F80_0000, using: &g)) }
        let y = Tensor(values, shape: [rows, cols]).transposed()  // [cols, rows]
        let logical = y.toArray()
        let original = logical.map(\.bitPattern)
        var seen: [Float] = []
        for flat in 0..<(rows * cols) {
            let index = [flat / rows, flat % rows], value = Float.random(in: -1000..<1000, using: &g)
            seen.append(withElement(of: y, at: index, setTo: value) { y.toArray()[flat] })
            _ = withElement(of: y, at: index, setTo: .nan) { 0 }
            _ = withElement(of: y, at: index, setTo: -.infinity) { 0 }
        }
        let restored = y.toArray().map(\.bitPattern)
        #expect(restored == original, "every element of a drawn transposed view must come back bit for bit; got \(y.toArray()), expected \(logical)")
        observe("the bit patterns of a drawn [\(cols), \(rows)] view after setting each element and putting it back", restored.map { Int($0) })
        observe("each element of the drawn view as the body read it, set to a drawn value", seen)
    }

    @Test func theBodySeesTheNewValueAndItsResultIsReturned() {
        let x = Tensor([1, 2, 3])
        let result = withElement(of: x, at: [2], setTo: 10) { x.toArray().reduce(0, +) }
        #expect(result == 13, "inside the body x is [1, 2, 10], so its sum is 13; got \(result)")
        #expect(x.toArray() == [1, 2, 3])
        observe("the body's result: the sum of [1, 2, 3] with element 2 set to 10", result)
        observe("[1, 2, 3] afterwards", x.toArray())

        // Drawn from the grading seed: another tensor, element and value (multiples of 1/4: the sums are exact).
        var g = SeededGenerator(seed: graded(7302))
        let n = Int.random(in: 2...8, using: &g)
        let values = (0..<n).map { _ in Float(Int.random(in: -40...40, using: &g)) / 4 }
        let k = Int.random(in: 0..<n, using: &g), value = Float(Int.random(in: -40...40, using: &g)) / 4
        let y = Tensor(values)
        let sum = withElement(of: y, at: [k], setTo: value) { y.toArray().reduce(0, +) }
        var inside = values
        inside[k] = value
        #expect(sum == inside.reduce(0, +) && y.toArray() == values,
                "inside the body \(values) is \(inside), so its sum is \(inside.reduce(0, +)); got \(sum), and afterwards \(y.toArray())")
        observe("the body's result: the sum of \(values) with element \(k) set to \(value)", sum)
        observe("\(values) afterwards", y.toArray())
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
        observe("the base as the body read it, element [2, 1] of columns 1 and 3 set to −1", seen)
        observe("the base afterwards", base.toArray())

        // Drawn from the grading seed: another base, slice and element.
        var g = SeededGenerator(seed: graded(7303))
        let (rows, cols) = (Int.random(in: 3...5, using: &g), Int.random(in: 5...8, using: &g))
        let (rowStart, start, step) = (Int.random(in: 0...1, using: &g), Int.random(in: 0...2, using: &g), Int.random(in: 2...3, using: &g))
        let other = Tensor((0..<(rows * cols)).map(Float.init), shape: [rows, cols])
        let slice = other.sliced(axis: 0, from: rowStart).sliced(axis: 1, from: start, step: step)
        let (i, j) = (Int.random(in: 0..<slice.shape[0], using: &g), Int.random(in: 0..<slice.shape[1], using: &g))
        let value = Float(Int.random(in: -99 ... -1, using: &g))
        let read = withElement(of: slice, at: [i, j], setTo: value) { other.toArray() }
        var expectedRead = (0..<(rows * cols)).map(Float.init)
        let slot = (rowStart + i) * cols + start + j * step
        expectedRead[slot] = value
        #expect(read == expectedRead && other.toArray() == (0..<(rows * cols)).map(Float.init),
                "element [\(i), \(j)] of rows \(rowStart)… and columns \(start), \(start + step), … of a [\(rows), \(cols)] base is storage slot \(slot) (offset + index·strides); the base read \(read) inside the body, and \(other.toArray()) afterwards")
        observe("the base as the body read it, element [\(i), \(j)] of rows \(rowStart)… and columns \(start) step \(step) set to \(value)", read)
        observe("that base afterwards", other.toArray())
    }

    @Test func aPermutedView() {
        let base = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let view = base.permuted([2, 0, 1])  // shape [4, 2, 3], strides [1, 12, 4]
        let got = withElement(of: view, at: [3, 1, 2], setTo: 99) { base[1, 2, 3] }
        #expect(got == 99, "view[3, 1, 2] is base[1, 2, 3] (slot 3 + 12 + 8 = 23); base[1, 2, 3] read \(got) inside the body")
        #expect(base[1, 2, 3] == 23)
        observe("base[1, 2, 3] read inside the body, view[3, 1, 2] set to 99", got)
        observe("base[1, 2, 3] afterwards", base[1, 2, 3])

        // Drawn from the grading seed: another permutation and element.
        var g = SeededGenerator(seed: graded(7304))
        let order = [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].randomElement(using: &g)!
        let view2 = base.permuted(order)
        let index = view2.shape.map { Int.random(in: 0..<$0, using: &g) }
        var baseIndex = [0, 0, 0]
        for (k, axis) in order.enumerated() { baseIndex[axis] = index[k] }
        let value = Float(Int.random(in: 100...999, using: &g))
        let read = withElement(of: view2, at: index, setTo: value) { base.toArray() }
        var expectedRead = (0..<24).map(Float.init)
        expectedRead[position(baseIndex, [2, 3, 4])] = value
        #expect(read == expectedRead && base.toArray() == (0..<24).map(Float.init),
                "element \(index) of base.permuted(\(order)) is base\(baseIndex); setting it to \(value), the base read \(read) inside the body")
        observe("the base as the body read it, element \(index) of base.permuted(\(order)) set to \(value)", read)
        observe("that base afterwards", base.toArray())
    }

    @Test func aScalarTensor() {
        let x = Tensor(scalar: 2.5)
        let got = withElement(of: x, at: [], setTo: -7) { x.item() }
        #expect(got == -7 && x.item() == 2.5, "a scalar's only element has index []; inside \(got), after \(x.item())")
        observe("a scalar 2.5 set to −7: inside the body, then afterwards", [got, x.item()])

        // Drawn from the grading seed: another scalar and value.
        var g = SeededGenerator(seed: graded(7305))
        let (start, value) = (Float.random(in: -100..<100, using: &g), Float.random(in: -100..<100, using: &g))
        let s = Tensor(scalar: start)
        let inside = withElement(of: s, at: [], setTo: value) { s.item() }
        #expect(inside == value && s.item() == start, "a scalar's only element has index []; set \(start) to \(value): inside \(inside), after \(s.item())")
        observe("a scalar \(start) set to \(value): inside the body, then afterwards", [inside, s.item()])
    }

    @Test func nestedCallsRestoreBoth() {
        let x = Tensor([1, 2, 3, 4], shape: [2, 2])
        let inside = withElement(of: x, at: [0, 1], setTo: 20) {
            withElement(of: x, at: [1, 0], setTo: 30) { x.toArray() }
        }
        #expect(inside == [1, 20, 30, 4], "got \(inside)")
        #expect(x.toArray() == [1, 2, 3, 4], "both elements restored; got \(x.toArray())")
        observe("[[1, 2], [3, 4]] inside two nested calls setting [0, 1] to 20 and [1, 0] to 30", inside)
        observe("[[1, 2], [3, 4]] afterwards", x.toArray())

        // Drawn from the grading seed: another tensor, two other elements and values.
        var g = SeededGenerator(seed: graded(7306))
        let (rows, cols) = (Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g))
        let values = (0..<(rows * cols)).map { _ in Float(Int.random(in: -50...50, using: &g)) }
        let first = Int.random(in: 0..<(rows * cols), using: &g)
        var second = Int.random(in: 0..<(rows * cols - 1), using: &g)
        if second >= first { second += 1 }
        let (v1, v2) = (Float(Int.random(in: 100...199, using: &g)), Float(Int.random(in: 200...299, using: &g)))
        let y = Tensor(values, shape: [rows, cols])
        let nested = withElement(of: y, at: [first / cols, first % cols], setTo: v1) {
            withElement(of: y, at: [second / cols, second % cols], setTo: v2) { y.toArray() }
        }
        var expectedInside = values
        expectedInside[first] = v1
        expectedInside[second] = v2
        #expect(nested == expectedInside && y.toArray() == values,
                "nested calls on \(values) as [\(rows), \(cols)]: inside expected \(expectedInside), got \(nested); afterwards \(y.toArray())")
        observe("drawn \(values) inside two nested calls setting flat positions \(first) to \(v1) and \(second) to \(v2)", nested)
        observe("drawn \(values) afterwards", y.toArray())
    }

    @Test func numericalGradientOnAStridedView() {
        // f = Σ c ⊙ x³ has ∂f/∂x = 3c·x², checked on a transposed leaf.
        let x = Tensor(uniformNumbers(6, seed: graded(731)), shape: [3, 2]).transposed()
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
        observe("the report's input", report.input)
        observe("whether the report passed", report.passed)
        observe("the report's worstIndex", report.worstIndex)
        observeNear("|error| at the worst element", report.absoluteError, expected: 0.03, 1e-12)
        observeNear("the tolerance at the worst element", report.tolerance, expected: 0.01, 1e-12)

        // Drawn from the grading seed: other gradients and tolerances, where the largest error is rarely the worst.
        var g = SeededGenerator(seed: graded(7401))
        for trial in 0..<3 {
            let n = Int.random(in: 3...8, using: &g)
            let numerical = (0..<n).map { _ in Double.random(in: -50...50, using: &g) }
            let analytic = numerical.map { $0 + Double.random(in: -1...1, using: &g) * Double.random(in: 0...0.5, using: &g) * Swift.max(1, Swift.abs($0)) }
            let (atol, rtol) = (Double.random(in: 0.001...0.1, using: &g), Double.random(in: 0.001...0.1, using: &g))
            checkDrawnReport("drawn report \(trial)", input: trial, shape: [n], analytic: analytic, numerical: numerical, atol: atol, rtol: rtol)
        }
    }

    @Test func multiIndicesOfHigherRanks() {
        var analytic = [Double](repeating: 1, count: 24)
        analytic[17] = 5  // [1, 1, 1] in shape [2, 3, 4]
        let report = gradcheckReport(input: 0, shape: [2, 3, 4], analytic: analytic,
                                     numerical: [Double](repeating: 1, count: 24), atol: 1e-3, rtol: 1e-3)
        #expect(report.worstIndex == [1, 1, 1], "flat position 17 of shape [2, 3, 4] is [1, 1, 1] (17 = 1·12 + 1·4 + 1); got \(report.worstIndex)")
        #expect(report.analytic == 5 && report.numerical == 1 && report.absoluteError == 4)
        #expect(!report.passed)
        observe("the report's worstIndex for flat position 17 of shape [2, 3, 4]", report.worstIndex)
        observe("the analytic and numerical gradients and |error| at the worst element", [report.analytic, report.numerical, report.absoluteError])
        observe("whether the report passed", report.passed)

        // Drawn from the grading seed: other shapes of rank 2 to 4, with the one wrong element elsewhere.
        var g = SeededGenerator(seed: graded(7402))
        for trial in 0..<3 {
            let shape = (0..<Int.random(in: 2...4, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let count = shape.reduce(1, *)
            let numerical = (0..<count).map { _ in Double.random(in: -2...2, using: &g) }
            var analytic = numerical
            let wrong = Int.random(in: 0..<count, using: &g)
            analytic[wrong] += Double.random(in: 1...5, using: &g)
            checkDrawnReport("drawn shape \(shape) with one wrong element", input: trial, shape: shape, analytic: analytic, numerical: numerical,
                             atol: 1e-3, rtol: 1e-3)
        }
    }

    @Test func aNaNIsTheWorstOfAll() {
        let report = gradcheckReport(input: 0, shape: [2, 2], analytic: [10, 1, .nan, 1], numerical: [0, 1, 1, 1],
                                     atol: 1e-2, rtol: 1e-2)
        #expect(report.worstIndex == [1, 0],
                "a NaN misses its tolerance by more than anything (even an error of 10); got \(report.worstIndex) — compare `excess > worst` is false for NaN, so treat a NaN error as infinite")
        #expect(!report.passed)
        observe("the report's worstIndex with a NaN at [1, 0] and an error of 10 at [0, 0]", report.worstIndex)
        observe("whether the report with a NaN passed", report.passed)

        // Drawn from the grading seed: one NaN (in either gradient) among large errors, somewhere else.
        var g = SeededGenerator(seed: graded(7403))
        for trial in 0..<3 {
            let shape = [Int.random(in: 1...4, using: &g), Int.random(in: 2...4, using: &g)]
            let count = shape.reduce(1, *)
            let numerical = (0..<count).map { _ in Double.random(in: -2...2, using: &g) }
            var analytic = numerical.map { $0 + Double.random(in: -20...20, using: &g) }
            var withNaN = numerical
            let spot = Int.random(in: 0..<count, using: &g)
            if Bool.random(using: &g) { analytic[spot] = .nan } else { withNaN[spot] = .nan }
            checkDrawnReport("drawn shape \(shape) with a NaN at flat position \(spot)", input: trial, shape: shape, analytic: analytic,
                             numerical: withNaN, atol: 1e-2, rtol: 1e-2)
        }
    }

    @Test func allAgreeingPasses() {
        let report = gradcheckReport(input: 1, shape: [3], analytic: [1, 2.001, 3], numerical: [1, 2, 3.0005],
                                     atol: 1e-2, rtol: 1e-2)
        #expect(report.passed, "every element is within tolerance: \(report)")
        #expect(report.worstIndex.count == 1 && (0..<3).contains(report.worstIndex[0]),
                "a passing report still names an element of shape [3]; got \(report.worstIndex)")
        observe("whether the report of three agreeing elements passed", report.passed)
        observe("the rank of the worstIndex of a passing report of shape [3]", report.worstIndex.count)
        observe("whether that worstIndex names an element of shape [3]", report.worstIndex.count == 1 && (0..<3).contains(report.worstIndex[0]))

        // Drawn from the grading seed: other shapes where every element agrees (the worst is still the one closest to failing).
        var g = SeededGenerator(seed: graded(7404))
        for trial in 0..<3 {
            let shape = (0..<Int.random(in: 1...3, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let count = shape.reduce(1, *)
            let numerical = (0..<count).map { _ in Double.random(in: -5...5, using: &g) }
            let analytic = numerical.map { $0 + Double.random(in: -0.9...0.9, using: &g) * (1e-2 + 1e-2 * Swift.abs($0)) }
            checkDrawnReport("drawn shape \(shape) where every element agrees", input: trial, shape: shape, analytic: analytic,
                             numerical: numerical, atol: 1e-2, rtol: 1e-2)
        }
    }

    @Test func anEmptyInputPasses() {
        let report = gradcheckReport(input: 0, shape: [0, 3], analytic: [], numerical: [], atol: 1e-2, rtol: 1e-2)
        #expect(report.passed && report.worstIndex == [], "no elements, nothing wrong: passed, worstIndex []; got \(report)")
        observe("whether the report of a [0, 3] input passed", report.passed)
        observe("the worstIndex of the report of a [0, 3] input", report.worstIndex)

        // Drawn from the grading seed: other empty shapes and input numbers.
        var g = SeededGenerator(seed: graded(7405))
        let shape = [Int.random(in: 1...5, using: &g), 0, Int.random(in: 1...5, using: &g)].shuffled(using: &g)
        let input = Int.random(in: 0...9, using: &g)
        let empty = gradcheckReport(input: input, shape: shape, analytic: [], numerical: [], atol: 1e-2, rtol: 1e-2)
        #expect(empty.input == input && empty.passed && empty.worstIndex == [],
                "input \(input) of shape \(shape) has no elements, nothing wrong: input \(input), passed, worstIndex []; got \(empty)")
        observe("the input number of the report of input \(input), shape \(shape)", empty.input)
        observe("whether the report of shape \(shape) passed", empty.passed)
        observe("the worstIndex of the report of shape \(shape)", empty.worstIndex)
    }

    @Test func gradcheckRejectsBrokenBackwardRules() {
        let x = Tensor(uniformNumbers(6, seed: graded(741), 0.5, 2), shape: [2, 3], requiresGrad: true)
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
            observe("whether gradcheck passed \(name)", report.passed)
        }
        let correct = gradcheck([x]) { customOp("exp", $0[0], forward: { $0.exp() }, rule: { g, _, y in g * y }) }
        #expect(correct.passed, "and accept a correct rule:\n\(correct)")
        observe("whether gradcheck passed a correct exp", correct.passed)
        observe("the number of inputs gradcheck reported on for a correct exp", correct.inputs.count)

        // Drawn from the grading seed: the reports on these rules, from gradients worked out by hand at the drawn x.
        let xs = x.toArray().map(Double.init)
        var g = SeededGenerator(seed: graded(7406))
        let weights = (0..<6).map { _ in Double(Int.random(in: 2...8, using: &g)) / 4 }  // the upstream gradient
        let cases: [(String, (Double) -> Double, (Double) -> Double)] = [
            ("exp with the sign flipped", { -Foundation.exp($0) }, { Foundation.exp($0) }),
            ("x² with the factor 2 forgotten", { $0 }, { 2 * $0 }),
            ("log returning x instead of 1/x", { $0 }, { 1 / $0 }),
            ("a correct exp", { Foundation.exp($0) }, { Foundation.exp($0) }),
        ]
        for (k, (name, wrong, right)) in cases.enumerated() {
            checkDrawnReport("the report on \(name) at the drawn x, upstream gradient \(weights)", input: k, shape: [2, 3],
                             analytic: zip(xs, weights).map { wrong($0) * $1 }, numerical: zip(xs, weights).map { right($0) * $1 },
                             atol: 1e-2, rtol: 1e-2)
        }
    }

    @Test func gradcheckFindsTheOneWrongElement() {
        // A rule that is right everywhere except at flat position 4.
        let x = Tensor(uniformNumbers(6, seed: graded(742)), shape: [3, 2], requiresGrad: true)
        let report = gradcheck([x]) {
            customOp("almost", $0[0], forward: { $0 * 3 }, rule: { g, _, _ in
                var grad = (g * 3).toArray()
                grad[4] += 1
                return Tensor(grad, shape: g.shape)
            })
        }
        #expect(!report.passed && report.inputs.first?.worstIndex == [2, 0],
                "the only wrong element is [2, 0]; the report names \(report.inputs.first.map { "\($0.worstIndex)" } ?? "nothing")")
        observe("whether gradcheck passed a rule wrong at [2, 0]", report.passed)
        observe("the worstIndex gradcheck reports for a rule wrong at [2, 0]", report.inputs.first?.worstIndex ?? [])

        // Drawn from the grading seed: another shape, another wrong element and another error.
        var g = SeededGenerator(seed: graded(7407))
        let shape = [Int.random(in: 2...4, using: &g), Int.random(in: 2...4, using: &g)]
        let count = shape.reduce(1, *)
        let wrong = Int.random(in: 0..<count, using: &g), error = Float(Int.random(in: 2...8, using: &g)) / 4
        let y = Tensor(uniformNumbers(count, seed: graded(7408)), shape: shape, requiresGrad: true)
        let drawn = gradcheck([y]) {
            customOp("almost", $0[0], forward: { $0 * 3 }, rule: { g, _, _ in
                var grad = (g * 3).toArray()
                grad[wrong] += error
                return Tensor(grad, shape: g.shape)
            })
        }
        let index = rowMajorIndex(wrong, shape: shape)
        #expect(!drawn.passed && drawn.inputs.first?.worstIndex == index,
                "the only wrong element of shape \(shape) is \(index) (off by \(error)); the report names \(drawn.inputs.first.map { "\($0.worstIndex)" } ?? "nothing")")
        observe("whether gradcheck passed a rule wrong at \(index) of shape \(shape)", drawn.passed)
        observe("the worstIndex gradcheck reports for a rule wrong by \(error) at flat position \(wrong) of shape \(shape)", drawn.inputs.first?.worstIndex ?? [])
        observe("|error| at that worst element", drawn.inputs.first?.absoluteError ?? -1, atol: 1e-2)
    }

    @Test func gradcheckOnStridedAndBroadcastInputs() {
        // A transposed leaf, a sliced leaf with an offset, and a row that broadcasts.
        let a = Tensor(uniformNumbers(12, seed: graded(743)), shape: [4, 3]).transposed()
        let b = Tensor(uniformNumbers(24, seed: graded(744)), shape: [3, 8]).sliced(axis: 1, from: 1, to: 8, step: 2)  // [3, 4]
        let c = Tensor(uniformNumbers(4, seed: graded(745)), shape: [4])
        for t in [a, b, c] { t.requiresGrad = true }
        let report = gradcheck([a, b, c], atol: 1e-3, rtol: 1e-3) { xs in ((xs[0] * xs[1] + xs[2]).tanh() * xs[2]).sum(axis: 0) }
        #expect(report.inputs.count == 3 && report.passed, "every input checked and correct:\n\(report)")
        observe("the number of inputs gradcheck reported on", report.inputs.count)
        observe("whether gradcheck passed the strided, sliced and broadcast inputs", report.passed)
        // The gradients gradcheck compared, each within atol + rtol·|numerical| of the numerical one (so within twice that of the reference's).
        for (name, t) in [("a (transposed)", a), ("b (sliced with an offset and a step)", b), ("c (broadcast)", c)] {
            observe("the analytic gradient gradcheck computed for \(name)", t.grad, atol: 2e-3, rtol: 2e-3)
        }
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
                Tensor(uniformNumbers(elementCount(shape), seed: graded(UInt64(750 + 10 * k + i)), lo, hi), shape: shape, requiresGrad: true)
            }
            let report = gradcheck(xs, atol: 1e-3, rtol: 1e-3, f)
            #expect(report.passed, "\(name):\n\(report)")
            observe("whether gradcheck passed \(name)", report.passed)
            // The gradients gradcheck compared, each within atol + rtol·|numerical| of the numerical one (so within twice that of the reference's).
            for (i, x) in xs.enumerated() {
                observe("\(name): the analytic gradient gradcheck computed for input \(i)", x.grad, atol: 2e-3, rtol: 2e-3)
            }
        }
    }
}
