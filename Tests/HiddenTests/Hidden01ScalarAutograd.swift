import Foundation
import Testing
import Kindling

// Hidden tests of lesson 1 (scalar autograd). The grader maps each test to its
// exercise by the suite name `Exercise_1_N`; each suite uses only its own
// exercise and earlier ones. They probe what the visible tests do not: values
// used twice, diamonds, extreme inputs, graphs 100,000 values deep, repeated
// backward passes. Messages say what was expected, what came back and, for a
// known mistake, what it usually means.
//
// Every test also observes the values the learner's code produced (see
// Support/Observe.swift), with the tolerance of its own check, and runs a small
// case drawn from the grading seed next to its hand-worked one.

/// |a − b| ≤ tolerance · max(1, |b|).
private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(b))
}

/// The ops of a list of values, leaves shown as "leaf", for messages.
private func ops(_ values: [Value]) -> String {
    let names = values.prefix(12).map { $0.op.isEmpty ? "leaf" : $0.op }
    return "[" + names.joined(separator: ", ") + (values.count > 12 ? ", …]" : "]")
}

/// Why `order` is not a topological order of `root`'s graph, or nil when it is.
private func topologicalProblem(_ order: [Value], root: Value) -> String? {
    var seen = Set<ObjectIdentifier>()
    for (i, v) in order.enumerated() {
        if let missing = v.inputs.firstIndex(where: { !seen.contains(ObjectIdentifier($0)) }) {
            return "position \(i) (op \(v.op.isEmpty ? "leaf" : v.op)) comes before its input #\(missing) — every value must come after all of its inputs"
        }
        if !seen.insert(ObjectIdentifier(v)).inserted {
            return "position \(i) (op \(v.op.isEmpty ? "leaf" : v.op)) is listed a second time — a value reached along two paths must appear once (keep a visited set)"
        }
    }
    if order.last !== root { return "the value you called topologicalOrder() on must come last" }
    return nil
}

/// Every value reachable from `root` (including it), found by the test itself.
private func reachable(from root: Value) -> Set<ObjectIdentifier> {
    var seen: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
    var stack = [root]
    while let v = stack.popLast() {
        for input in v.inputs where seen.insert(ObjectIdentifier(input)).inserted { stack.append(input) }
    }
    return seen
}

/// A small whole number as a Double (sums and products of these are exact).
private func wholeNumber(_ range: ClosedRange<Int>, _ g: inout SeededGenerator) -> Double {
    Double(Int.random(in: range, using: &g))
}

// MARK: - 1.1 multiplication

@Suite struct Exercise_1_1 {
    @Test func productOfNegativesAndZero() {
        let a = Value(-1.5), b = Value(0)
        let c = a * b
        observe("(Value(-1.5) * Value(0)).data", c.data)
        observe("localGrads of Value(-1.5) * Value(0)", c.localGrads)
        observe("op of Value(-1.5) * Value(0)", c.op)
        #expect(c.data == 0, "−1.5 · 0 should be 0, got \(c.data)")
        #expect(c.localGrads == [0, -1.5], "expected localGrads [b.data, a.data] = [0, −1.5], got \(c.localGrads)")
        #expect(c.op == "*", "expected op \"*\", got \"\(c.op)\"")

        // Drawn from the grading seed: a negative number times 0, and times another negative number.
        var g = SeededGenerator(seed: graded(111))
        let x = -Double.random(in: 0.5...20, using: &g), y = -Double.random(in: 0.5...20, using: &g)
        for (p, q) in [(x, 0.0), (x, y)] {
            let d = Value(p) * Value(q)
            observe("(Value(\(p)) * Value(\(q))).data", d.data)
            observe("localGrads of Value(\(p)) * Value(\(q))", d.localGrads)
            #expect(d.data == p * q && d.localGrads == [q, p],
                    "Value(\(p)) * Value(\(q)): expected data \(p * q) and localGrads [\(q), \(p)], got \(d.data) and \(d.localGrads)")
        }
    }

    @Test func localDerivativesInTheOrderOfInputs() {
        let a = Value(5), b = Value(7)
        let c = a * b
        observe("number of inputs of Value(5) * Value(7)", c.inputs.count)
        observe("the inputs of Value(5) * Value(7) are the operands themselves, in order", c.inputs.count == 2 && c.inputs.first === a && c.inputs.last === b)
        observe("localGrads of Value(5) * Value(7)", c.localGrads)
        #expect(c.inputs.count == 2 && c.inputs.first === a && c.inputs.last === b,
                "expected inputs [a, b] (the operands themselves, in order), got \(c.inputs.count) inputs \(c.inputs.map(\.data))")
        let hint = c.localGrads == [5, 7] ? " — swapped: ∂(a·b)/∂a is b, the *other* operand" : ""
        #expect(c.localGrads == [7, 5], "expected localGrads [7, 5], got \(c.localGrads)\(hint)")

        // Drawn from the grading seed: two different operands.
        var g = SeededGenerator(seed: graded(112))
        let x = Double.random(in: 1...10, using: &g), y = Double.random(in: 11...20, using: &g)
        let p = Value(x), q = Value(y)
        let d = p * q
        observe("the inputs of Value(\(x)) * Value(\(y)) are the operands themselves, in order", d.inputs.count == 2 && d.inputs.first === p && d.inputs.last === q)
        observe("localGrads of Value(\(x)) * Value(\(y))", d.localGrads)
        #expect(d.inputs.count == 2 && d.inputs.first === p && d.inputs.last === q,
                "Value(\(x)) * Value(\(y)): expected inputs [a, b] (the operands themselves, in order), got \(d.inputs.count) inputs \(d.inputs.map(\.data))")
        #expect(d.localGrads == [y, x],
                "Value(\(x)) * Value(\(y)): expected localGrads [\(y), \(x)], got \(d.localGrads)\(d.localGrads == [x, y] ? " — swapped: ∂(a·b)/∂a is b, the *other* operand" : "")")
    }

    @Test func squareOfOneValue() {
        let a = Value(-4)
        let c = a * a
        observe("(Value(-4) * itself).data", c.data)
        observe("number of inputs of a * a", c.inputs.count)
        observe("both inputs of a * a are a itself", c.inputs.allSatisfy { $0 === a })
        observe("localGrads of a * a for a = −4", c.localGrads)
        #expect(c.data == 16, "(−4)·(−4) should be 16, got \(c.data)")
        #expect(c.inputs.count == 2 && c.inputs.allSatisfy { $0 === a },
                "a * a must list a twice in inputs (one entry per operand), got \(c.inputs.count) inputs")
        #expect(c.localGrads == [-4, -4], "expected localGrads [−4, −4], got \(c.localGrads)")

        // Drawn from the grading seed: the square of another negative value.
        var g = SeededGenerator(seed: graded(113))
        let x = -Double.random(in: 0.5...30, using: &g)
        let v = Value(x)
        let d = v * v
        observe("(Value(\(x)) * itself).data", d.data)
        observe("localGrads of a * a for a = \(x)", d.localGrads)
        observe("number of inputs of a * a for a = \(x)", d.inputs.count)
        #expect(d.data == x * x && d.localGrads == [x, x] && d.inputs.count == 2 && d.inputs.allSatisfy { $0 === v },
                "a * a for a = \(x): expected data \(x * x), localGrads [\(x), \(x)] and a listed twice in inputs; got \(d.data), \(d.localGrads), \(d.inputs.count) inputs")
    }

    @Test func operandsAreLeftAlone() {
        let a = Value(1.25), b = Value(-8)
        let p = a + b
        let c = p * b
        observe("[a.data, b.data, p.data] after c = (a + b) · b, a = 1.25, b = −8", [a.data, b.data, p.data])
        observe("[a.grad, b.grad, p.grad, c.grad] after c = (a + b) · b", [a.grad, b.grad, p.grad, c.grad])
        observe("p = a + b keeps its inputs after being multiplied", p.inputs.count == 2 && p.inputs[0] === a)
        observe("(a + b) · b with a = 1.25, b = −8: data", c.data)
        observe("(a + b) · b with a = 1.25, b = −8: localGrads", c.localGrads)
        observe("the inputs of (a + b) · b are p and b themselves", c.inputs.count == 2 && c.inputs[0] === p && c.inputs[1] === b)
        #expect(a.data == 1.25 && b.data == -8 && p.data == -6.75, "multiplying must not change the operands' data")
        #expect(a.grad == 0 && b.grad == 0 && p.grad == 0 && c.grad == 0,
                "a new value starts with grad 0 and its operands keep theirs")
        #expect(p.inputs.count == 2 && p.inputs[0] === a, "multiplying must not change the operands' inputs")
        #expect(c.data == 54 && c.localGrads == [-8, -6.75],
                "(a + b) · b with a = 1.25, b = −8: expected data 54 and localGrads [−8, −6.75], got \(c.data) and \(c.localGrads)")
        #expect(c.inputs.count == 2 && c.inputs[0] === p && c.inputs[1] === b,
                "inputs must be the computed value p and b, not copies")

        // Drawn from the grading seed: the same expression with other operands.
        var g = SeededGenerator(seed: graded(114))
        let x = Double.random(in: -10...10, using: &g), y = Double.random(in: -10...10, using: &g)
        let u = Value(x), w = Value(y)
        let s = u + w
        let sData = s.data
        let r = s * w
        observe("[a.data, b.data, p.data] after c = (a + b) · b, a = \(x), b = \(y)", [u.data, w.data, s.data])
        observe("[a.grad, b.grad, p.grad, c.grad] after c = (a + b) · b, a = \(x), b = \(y)", [u.grad, w.grad, s.grad, r.grad])
        observe("(a + b) · b with a = \(x), b = \(y): data", r.data)
        observe("(a + b) · b with a = \(x), b = \(y): localGrads", r.localGrads)
        #expect(u.data == x && w.data == y && s.data == sData && [u.grad, w.grad, s.grad, r.grad] == [0, 0, 0, 0],
                "(a + b) · b with a = \(x), b = \(y): multiplying must not change the operands' data, and every grad starts at 0")
        #expect(r.data == sData * y && r.localGrads == [y, sData] && r.inputs.count == 2 && r.inputs[0] === s && r.inputs[1] === w,
                "(a + b) · b with a = \(x), b = \(y): expected data \(sData * y), localGrads [\(y), \(sData)] and inputs [p, b]; got \(r.data) and \(r.localGrads)")
    }

    @Test func exactProductsOfDoubles() {
        var g = SeededGenerator(seed: graded(11))
        var data: [Double] = [], localGrads: [Double] = []
        for _ in 0..<200 {
            let x = Double.random(in: -1e3...1e3, using: &g), y = Double.random(in: -1e3...1e3, using: &g)
            let c = Value(x) * Value(y)
            data.append(c.data)
            localGrads += c.localGrads
            let ok = c.data == x * y && c.localGrads == [y, x]
            #expect(ok, "Value(\(x)) * Value(\(y)): expected data \(x * y), localGrads [\(y), \(x)]; got \(c.data), \(c.localGrads)")
            if !ok { return }  // one failing case is enough to read
        }
        observe("data of 200 products of random doubles in [−1000, 1000]", data)
        observe("localGrads of those 200 products, one pair after another", localGrads)
    }
}

// MARK: - 1.2 tanh

@Suite struct Exercise_1_2 {
    // Serialized: each case observes, and the observations must come in one order.
    @Test(.serialized, arguments: [50.0, -50.0, 400.0, -400.0, 1e6, -1e6])
    func largeInputsSaturate(x: Double) {
        let y = Value(x).tanh()
        observe("tanh(\(x)).data", y.data)
        observe("tanh(\(x)).localGrads", y.localGrads)
        let expected: Double = x > 0 ? 1 : -1
        let hint = y.data.isNaN ? " — NaN: e²ˣ overflowed to ∞ and ∞/∞ is NaN; use a form that only exponentiates −2|x| (see stableTanh) or Glibc.tanh" : ""
        #expect(y.data == expected, "tanh(\(x)) should be \(expected), got \(y.data)\(hint)")
        #expect(y.localGrads.count == 1 && y.localGrads[0] == 0,
                "the local derivative 1 − tanh²(\(x)) should be 0, got \(y.localGrads)")

        // Drawn from the grading seed, with x's sign: an input past e²ˣ's overflow (x ≈ 354.9), and a moderate one.
        var g = SeededGenerator(seed: graded(121 ^ x.bitPattern))
        let large = expected * Double.random(in: 360...1e6, using: &g)
        let moderate = expected * Double.random(in: 1...6, using: &g)
        let yl = Value(large).tanh(), ym = Value(moderate).tanh()
        observe("tanh(\(large)).data", yl.data)
        observe("tanh(\(large)).localGrads", yl.localGrads)
        observe("tanh(\(moderate)).data", ym.data, atol: 2e-12, rtol: 2e-12)
        observe("tanh(\(moderate)).localGrads", ym.localGrads, atol: 2e-12, rtol: 2e-12)
        #expect(yl.data == expected && yl.localGrads == [0],
                "tanh(\(large)) should be \(expected) with local derivative [0], got \(yl.data) and \(yl.localGrads)\(yl.data.isNaN ? " — NaN: e²ˣ overflowed to ∞ and ∞/∞ is NaN; use a form that only exponentiates −2|x| (see stableTanh) or Glibc.tanh" : "")")
        let t = Foundation.tanh(moderate)
        #expect(close(ym.data, t, 1e-12) && ym.localGrads.count == 1 && close(ym.localGrads[0], 1 - t * t, 1e-12),
                "tanh(\(moderate)) should be \(t) with local derivative [\(1 - t * t)], got \(ym.data) and \(ym.localGrads)")
    }

    // Serialized: each case observes, and the observations must come in one order.
    @Test(.serialized, arguments: [1e-8, -1e-8, 1e-12, 3e-5])
    func tinyInputsKeepTheirDigits(x: Double) {
        let y = Value(x).tanh()
        observe("tanh(\(x)).data", y.data, rtol: 2e-12)
        observe("tanh(\(x)).localGrads", y.localGrads, atol: 1e-9, rtol: 1e-9)
        let expected = Foundation.tanh(x)
        let hint = y.data == 0 ? " — exactly 0: (e²ˣ − 1) cancelled; use expm1, or Glibc.tanh" : " — (e²ˣ − 1) loses digits near 0; use expm1 (see stableTanh) or Glibc.tanh"
        #expect(Swift.abs(y.data - expected) <= 1e-12 * Swift.abs(expected),
                "tanh(\(x)) should be \(expected) to 12 significant digits, got \(y.data)\(hint)")
        #expect(y.localGrads.count == 1 && close(y.localGrads[0], 1, 1e-9),
                "the local derivative at \(x) should be ≈ 1, got \(y.localGrads)")

        // Drawn from the grading seed: another tiny input, of either sign.
        var g = SeededGenerator(seed: graded(122 ^ x.bitPattern))
        let tiny = (Bool.random(using: &g) ? 1.0 : -1.0) * Foundation.pow(10, Double.random(in: -13 ... -5, using: &g))
        let z = Value(tiny).tanh()
        observe("tanh(\(tiny)).data", z.data, rtol: 2e-12)
        observe("tanh(\(tiny)).localGrads", z.localGrads, atol: 1e-9, rtol: 1e-9)
        let t = Foundation.tanh(tiny)
        #expect(Swift.abs(z.data - t) <= 1e-12 * Swift.abs(t),
                "tanh(\(tiny)) should be \(t) to 12 significant digits, got \(z.data)\(z.data == 0 ? " — exactly 0: (e²ˣ − 1) cancelled; use expm1, or Glibc.tanh" : " — (e²ˣ − 1) loses digits near 0; use expm1 (see stableTanh) or Glibc.tanh")")
        #expect(z.localGrads.count == 1 && close(z.localGrads[0], 1, 1e-9),
                "the local derivative at \(tiny) should be ≈ 1, got \(z.localGrads)")
    }

    @Test func matchesTheCLibrary() {
        var g = SeededGenerator(seed: graded(12))
        var values: [Double] = [], derivatives: [Double] = []
        for _ in 0..<500 {
            let x = Double.random(in: -8...8, using: &g)
            let y = Value(x).tanh()
            values.append(y.data)
            derivatives += y.localGrads
            let t = Foundation.tanh(x)
            let valueOK = close(y.data, t, 1e-12)
            let gradOK = y.localGrads.count == 1 && close(y.localGrads[0], 1 - t * t, 1e-12)
            #expect(valueOK, "tanh(\(x)) should be \(t), got \(y.data)")
            #expect(gradOK, "∂tanh/∂x at \(x) should be 1 − tanh² = \(1 - t * t), got \(y.localGrads)\(y.localGrads.first.map { close($0, 1 - x * x, 1e-9) } == true ? " — that is 1 − x²: square the *output* t, not the input" : "")")
            if !(valueOK && gradOK) { return }  // one failing case is enough to read
        }
        observe("tanh of 500 random inputs in [−8, 8]", values, atol: 2e-12, rtol: 2e-12)
        observe("the local derivatives of tanh at those 500 inputs", derivatives, atol: 2e-12, rtol: 2e-12)
    }

    @Test func isOdd() {
        var sums: [Double] = []
        for x in [0.1, 0.7, 1.5, 4.0, 19.0] {
            let p = Value(x).tanh().data, n = Value(-x).tanh().data
            sums.append(p + n)
            #expect(Swift.abs(p + n) <= 1e-15, "tanh(−x) should be −tanh(x): tanh(\(x)) = \(p), tanh(\(-x)) = \(n)")
        }
        observe("tanh(x) + tanh(−x) for x = 0.1, 0.7, 1.5, 4, 19", sums, atol: 1e-15)
        observe("tanh(0).data", Value(0).tanh().data)
        #expect(Value(0).tanh().data == 0, "tanh(0) should be 0")

        // Drawn from the grading seed: five more inputs.
        var g = SeededGenerator(seed: graded(124))
        let xs = (0..<5).map { _ in Double.random(in: 0.05...20, using: &g) }
        let positive = xs.map { Value($0).tanh().data }, negative = xs.map { Value(-$0).tanh().data }
        observe("tanh(x) for x = \(xs)", positive, atol: 2e-12, rtol: 2e-12)
        observe("tanh(x) + tanh(−x) for x = \(xs)", zip(positive, negative).map { $0 + $1 }, atol: 1e-15)
        for (x, (p, n)) in zip(xs, zip(positive, negative)) {
            #expect(Swift.abs(p + n) <= 1e-15 && close(p, Foundation.tanh(x), 1e-12),
                    "tanh(−x) should be −tanh(x) = \(-Foundation.tanh(x)): tanh(\(x)) = \(p), tanh(\(-x)) = \(n)")
        }
    }

    @Test func recordsItsInput() {
        let x = Value(0.3)
        let y = x.tanh()
        observe("number of inputs of Value(0.3).tanh()", y.inputs.count)
        observe("the input of x.tanh() is x itself", y.inputs.count == 1 && y.inputs[0] === x)
        observe("op of Value(0.3).tanh()", y.op)
        observe("[x.data, x.grad] after x.tanh(), x = 0.3", [x.data, x.grad])
        #expect(y.inputs.count == 1 && y.inputs[0] === x, "tanh has one input, the value it was called on")
        #expect(y.op == "tanh", "expected op \"tanh\", got \"\(y.op)\"")
        #expect(x.data == 0.3 && x.grad == 0, "tanh must not change its input")

        // Drawn from the grading seed: another input.
        var g = SeededGenerator(seed: graded(125))
        let d = Double.random(in: -3...3, using: &g)
        let u = Value(d)
        let z = u.tanh()
        observe("Value(\(d)).tanh().data", z.data, atol: 2e-12, rtol: 2e-12)
        observe("the input of x.tanh() is x itself, x = \(d)", z.inputs.count == 1 && z.inputs[0] === u)
        observe("[x.data, x.grad] after x.tanh(), x = \(d)", [u.data, u.grad])
        #expect(z.inputs.count == 1 && z.inputs[0] === u && u.data == d && u.grad == 0 && close(z.data, Foundation.tanh(d), 1e-12),
                "Value(\(d)).tanh(): expected data \(Foundation.tanh(d)), one input (the value itself), left unchanged; got data \(z.data), \(z.inputs.count) inputs, input data \(u.data), grad \(u.grad)")
    }

    @Test func localDerivativeMatchesFiniteDifferences() {
        var locals: [Double] = [], numerics: [Double] = []
        for x in [-2.5, -0.9, 0.2, 1.1, 3.3] {
            let h = 1e-6
            let numeric = (Value(x + h).tanh().data - Value(x - h).tanh().data) / (2 * h)
            let local = Value(x).tanh().localGrads.first ?? .nan
            locals.append(local)
            numerics.append(numeric)
            #expect(close(local, numeric, 1e-7), "at x = \(x): local derivative \(local), finite differences \(numeric)")
        }
        observe("tanh's local derivative at x = −2.5, −0.9, 0.2, 1.1, 3.3", locals, atol: 2e-7, rtol: 2e-7)
        observe("tanh's finite differences at x = −2.5, −0.9, 0.2, 1.1, 3.3", numerics, atol: 2e-7, rtol: 2e-7)

        // Drawn from the grading seed: five more points.
        var g = SeededGenerator(seed: graded(126))
        let xs = (0..<5).map { _ in Double.random(in: -3.5...3.5, using: &g) }
        var seededLocals: [Double] = [], seededNumerics: [Double] = []
        for x in xs {
            let h = 1e-6
            let numeric = (Value(x + h).tanh().data - Value(x - h).tanh().data) / (2 * h)
            let local = Value(x).tanh().localGrads.first ?? .nan
            seededLocals.append(local)
            seededNumerics.append(numeric)
            #expect(close(local, numeric, 1e-7), "at x = \(x): local derivative \(local), finite differences \(numeric)")
        }
        observe("tanh's local derivative at x = \(xs)", seededLocals, atol: 2e-7, rtol: 2e-7)
        observe("tanh's finite differences at x = \(xs)", seededNumerics, atol: 2e-7, rtol: 2e-7)
    }
}

// MARK: - 1.3 topological order

@Suite struct Exercise_1_3 {
    @Test func chainOf100000Values() {
        // 100,000 additions in a row: a recursive search overflows the stack here.
        let step = Value(1)
        var v = Value(0)
        for _ in 0..<100_000 { v = v + step }
        let order = v.topologicalOrder()
        let problem = topologicalProblem(order, root: v)
        observe("number of values in the order of a chain of 100,000 additions of one shared value", order.count)
        observe("the order of that chain is a topological order ending at the root", problem == nil)
        #expect(order.count == 100_002, "a chain of 100,000 additions of one shared value has 100,002 values, got \(order.count)")
        if let problem { Issue.record("100,000-value chain: \(problem)") }

        // Drawn from the grading seed: a chain of another length, adding another whole number.
        var g = SeededGenerator(seed: graded(131))
        let length = Int.random(in: 100_000...110_000, using: &g)
        let shared = Value(wholeNumber(1...9, &g))
        var w = Value(0)
        for _ in 0..<length { w = w + shared }
        let seededOrder = w.topologicalOrder()
        let seededProblem = topologicalProblem(seededOrder, root: w)
        observe("number of values in the order of a chain of \(length) additions of one shared value", seededOrder.count)
        observe("the order of that chain is a topological order ending at the root (\(length) additions)", seededProblem == nil)
        observe("the sum of the data of the values in that order (\(length) additions of \(shared.data))", seededOrder.reduce(0) { $0 + $1.data })
        #expect(seededOrder.count == length + 2, "a chain of \(length) additions of one shared value has \(length + 2) values, got \(seededOrder.count)")
        if let seededProblem { Issue.record("\(length)-value chain: \(seededProblem)") }
    }

    @Test func diamondsStackedFiftyHigh() {
        // Each level uses the previous value twice: 2⁵⁰ paths but only 101 values.
        // A search without a visited set never finishes.
        let x = Value(0)
        var v = x
        for _ in 0..<50 { v = v * v + v }
        let order = v.topologicalOrder()
        let problem = topologicalProblem(order, root: v)
        observe("number of values in the order of 50 stacked diamonds", order.count)
        observe("the order of 50 stacked diamonds is a topological order ending at the root", problem == nil)
        #expect(order.count == 101, "50 stacked diamonds hold 101 distinct values, got \(order.count)")
        if let problem { Issue.record("stacked diamonds: \(problem)") }

        // Drawn from the grading seed: another height, from another start in (−1, 0) (where v·v + v stays in [−¼, 0)).
        var g = SeededGenerator(seed: graded(132))
        let height = Int.random(in: 40...60, using: &g)
        var w = Value(-Double.random(in: 0.05...0.95, using: &g))
        let start = w.data
        for _ in 0..<height { w = w * w + w }
        let seededOrder = w.topologicalOrder()
        let seededProblem = topologicalProblem(seededOrder, root: w)
        observe("number of values in the order of \(height) stacked diamonds", seededOrder.count)
        observe("the order of \(height) stacked diamonds is a topological order ending at the root", seededProblem == nil)
        observe("the sum of the data of the values in that order (x = \(start))", seededOrder.reduce(0) { $0 + $1.data }, atol: 1e-9, rtol: 1e-9)
        #expect(seededOrder.count == 2 * height + 1, "\(height) stacked diamonds hold \(2 * height + 1) distinct values, got \(seededOrder.count)")
        if let seededProblem { Issue.record("\(height) stacked diamonds: \(seededProblem)") }
    }

    @Test func oneValueUsedAThousandTimes() {
        let x = Value(2)
        var s = x
        for _ in 0..<1000 { s = s + x }
        let order = s.topologicalOrder()
        let problem = topologicalProblem(order, root: s)
        observe("number of values in the order of x plus 1,000 sums", order.count)
        observe("x, the only leaf, comes first", order.first === x)
        observe("the order of x plus 1,000 sums is a topological order ending at the root", problem == nil)
        #expect(order.count == 1001, "x plus 1,000 sums: 1,001 values, got \(order.count)")
        #expect(order.first === x, "x is the only leaf, so it must come first")
        if let problem { Issue.record("\(problem)") }

        // Drawn from the grading seed: another number of uses of another whole number.
        var g = SeededGenerator(seed: graded(133))
        let uses = Int.random(in: 500...1500, using: &g)
        let y = Value(wholeNumber(2...99, &g))
        var t = y
        for _ in 0..<uses { t = t + y }
        let seededOrder = t.topologicalOrder()
        let seededProblem = topologicalProblem(seededOrder, root: t)
        observe("number of values in the order of x plus \(uses) sums", seededOrder.count)
        observe("x, the only leaf, comes first (\(uses) sums)", seededOrder.first === y)
        observe("the sum of the data of the values in the order of x plus \(uses) sums, x = \(y.data)", seededOrder.reduce(0) { $0 + $1.data })
        #expect(seededOrder.count == uses + 1 && seededOrder.first === y,
                "x plus \(uses) sums: \(uses + 1) values with x, the only leaf, first; got \(seededOrder.count) values")
        if let seededProblem { Issue.record("x plus \(uses) sums: \(seededProblem)") }
    }

    @Test func randomGraphs() {
        var g = SeededGenerator(seed: graded(13))
        var counts: [Int] = []
        for trial in 0..<20 {
            var pool = (0..<5).map { Value(Double($0)) }
            for _ in 0..<300 {
                let a = pool[Int.random(in: 0..<pool.count, using: &g)]
                let b = pool[Int.random(in: 0..<pool.count, using: &g)]
                pool.append(Bool.random(using: &g) ? a + b : a * b)
            }
            let root = pool[Int.random(in: 250..<pool.count, using: &g)]
            let order = root.topologicalOrder()
            counts.append(order.count)
            let expected = reachable(from: root)
            let sameValues = Set(order.map(ObjectIdentifier.init)) == expected && order.count == expected.count
            #expect(sameValues, "random graph \(trial) (seed 13): expected each of the \(expected.count) reachable values once, got \(order.count) entries")
            if let problem = topologicalProblem(order, root: root) {
                Issue.record("random graph \(trial) (seed 13): \(problem)")
                return
            }
            if !sameValues { return }
        }
        observe("number of values in the order of each of 20 random graphs", counts)
    }

    @Test func onlyTheAncestorsOfTheRoot() {
        let a = Value(1), b = Value(2), e = Value(3)
        let c = a * b
        let d = c + e
        let order = c.topologicalOrder()
        observe("number of values in the order of c = a * b (with d = c + e computed from c)", order.count)
        observe("d = c + e and e stay out of c's order", !order.contains { $0 === d || $0 === e })
        #expect(order.count == 3 && !order.contains { $0 === d || $0 === e },
                "c = a * b depends on a, b and itself only; values computed *from* c (d = c + e) are not part of its graph. Got ops \(ops(order))")
        _ = d

        // Drawn from the grading seed: a product of several leaves, with values computed from it.
        var g = SeededGenerator(seed: graded(135))
        let leaves = (0..<Int.random(in: 2...6, using: &g)).map { _ in Value(wholeNumber(-9...9, &g)) }
        var product = leaves[0]
        for leaf in leaves.dropFirst() { product = product * leaf }
        let later = product + Value(wholeNumber(-9...9, &g))   // computed from the product: not in its graph
        let later2 = later * leaves[0]
        let productOrder = product.topologicalOrder()
        observe("number of values in the order of a product of the leaves \(leaves.map(\.data))", productOrder.count)
        observe("the sum of the data of the values in that order", productOrder.reduce(0) { $0 + $1.data })
        observe("values computed from the product stay out of its order", !productOrder.contains { $0 === later || $0 === later2 })
        #expect(productOrder.count == 2 * leaves.count - 1 && !productOrder.contains { $0 === later || $0 === later2 },
                "a product of \(leaves.count) leaves depends on them and the \(leaves.count - 1) products only; values computed *from* it are not part of its graph. Expected \(2 * leaves.count - 1) values, got ops \(ops(productOrder))")
    }

    @Test func leavesDataAndGradientsAlone() {
        let a = Value(1.5), b = Value(-2)
        let c = a * b + a
        a.grad = 7
        let order = c.topologicalOrder()
        observe("number of values in the order of c = a * b + a", order.count)
        observe("[a.grad, b.grad, c.grad] after topologicalOrder() (a.grad was 7)", [a.grad, b.grad, c.grad])
        observe("[a.data, c.data] after topologicalOrder(), a = 1.5, b = −2", [a.data, c.data])
        observe("c's inputs are unchanged after topologicalOrder()", c.inputs.count == 2 && c.inputs[1] === a)
        #expect(order.count == 4)
        #expect(a.grad == 7 && b.grad == 0 && c.grad == 0 && a.data == 1.5 && c.data == -1.5,
                "topologicalOrder() only lists values; it must not change data or gradients")
        #expect(c.inputs.count == 2 && c.inputs[1] === a, "topologicalOrder() must not change the graph")

        // Drawn from the grading seed: other data and another gradient already held.
        var g = SeededGenerator(seed: graded(136))
        let x = Value(Double.random(in: -5...5, using: &g)), y = Value(Double.random(in: -5...5, using: &g))
        let z = x * y + x
        let held = Double.random(in: -10...10, using: &g), zData = z.data
        x.grad = held
        let seededOrder = z.topologicalOrder().count
        observe("number of values in the order of c = a * b + a, a = \(x.data), b = \(y.data)", seededOrder)
        observe("[a.grad, b.grad, c.grad] after topologicalOrder() (a.grad was \(held))", [x.grad, y.grad, z.grad])
        observe("[a.data, c.data] after topologicalOrder(), a = \(x.data), b = \(y.data)", [x.data, z.data])
        #expect(seededOrder == 4 && x.grad == held && y.grad == 0 && z.grad == 0 && z.data == zData && z.inputs.count == 2 && z.inputs[1] === x,
                "topologicalOrder() only lists values (4 for c = a * b + a); it must not change data, gradients or the graph: got \(seededOrder) values, grads \([x.grad, y.grad, z.grad])")
    }
}

// MARK: - 1.4 one chain-rule step

@Suite struct Exercise_1_4 {
    // These build nodes with the public initializer, so they need no other exercise.

    @Test func eachInputGetsItsLocalDerivativeTimesGrad() {
        let a = Value(1), b = Value(2), c = Value(3)
        let y = Value(0, inputs: [a, b, c], localGrads: [2, -3, 0.5], op: "custom")
        y.grad = 4
        y.propagateGrad()
        observe("the grads of 3 inputs after propagateGrad() with localGrads [2, −3, 0.5] and grad 4", [a.grad, b.grad, c.grad])
        #expect([a.grad, b.grad, c.grad] == [8, -12, 2],
                "with localGrads [2, −3, 0.5] and grad 4, the inputs should receive [8, −12, 2], got \([a.grad, b.grad, c.grad])")

        // Drawn from the grading seed: other local derivatives and another gradient.
        var g = SeededGenerator(seed: graded(141))
        let locals = (0..<3).map { _ in wholeNumber(-9...9, &g) / 2 }, grad = wholeNumber(1...9, &g)
        let inputs = (0..<3).map { _ in Value(1) }
        let node = Value(0, inputs: inputs, localGrads: locals, op: "custom")
        node.grad = grad
        node.propagateGrad()
        let received = inputs.map(\.grad)
        observe("the grads of 3 inputs after propagateGrad() with localGrads \(locals) and grad \(grad)", received)
        #expect(received == locals.map { $0 * grad },
                "with localGrads \(locals) and grad \(grad), the inputs should receive \(locals.map { $0 * grad }), got \(received)")
    }

    @Test func anInputListedTwiceReceivesBothContributions() {
        let a = Value(1)
        let y = Value(0, inputs: [a, a], localGrads: [3, 4], op: "custom")
        y.grad = 2
        y.propagateGrad()
        observe("a.grad after propagateGrad() with inputs [a, a], localGrads [3, 4], grad 2", a.grad)
        let hint = a.grad == 8 ? " — the second contribution overwrote the first: add with +=" : ""
        #expect(a.grad == 14, "a appears twice (local derivatives 3 and 4, grad 2): expected 3·2 + 4·2 = 14, got \(a.grad)\(hint)")

        // Drawn from the grading seed: other local derivatives and another gradient.
        var g = SeededGenerator(seed: graded(142))
        let l1 = wholeNumber(1...200, &g), l2 = wholeNumber(201...400, &g), grad = wholeNumber(-99...(-1), &g)
        let x = Value(1)
        let node = Value(0, inputs: [x, x], localGrads: [l1, l2], op: "custom")
        node.grad = grad
        node.propagateGrad()
        observe("a.grad after propagateGrad() with inputs [a, a], localGrads [\(l1), \(l2)], grad \(grad)", x.grad)
        #expect(x.grad == l1 * grad + l2 * grad,
                "a appears twice (local derivatives \(l1) and \(l2), grad \(grad)): expected \(l1 * grad + l2 * grad), got \(x.grad)\(x.grad == l2 * grad ? " — the second contribution overwrote the first: add with +=" : "")")
    }

    @Test func addsToAnExistingGradient() {
        let a = Value(1)
        a.grad = -1.5
        let y = Value(0, inputs: [a], localGrads: [2], op: "custom")
        y.grad = 1
        y.propagateGrad()
        observe("a.grad after propagateGrad() (a held −1.5, localGrads [2], grad 1)", a.grad)
        #expect(a.grad == 0.5, "a already held −1.5 and receives 2·1: expected 0.5, got \(a.grad)\(a.grad == 2 ? " — overwritten: use +=" : "")")

        // Drawn from the grading seed: another gradient already held.
        var g = SeededGenerator(seed: graded(143))
        let held = wholeNumber(-500...500, &g) / 4, local = wholeNumber(1...99, &g), grad = wholeNumber(1...99, &g)
        let x = Value(1)
        x.grad = held
        let node = Value(0, inputs: [x], localGrads: [local], op: "custom")
        node.grad = grad
        node.propagateGrad()
        observe("a.grad after propagateGrad() (a held \(held), localGrads [\(local)], grad \(grad))", x.grad)
        #expect(x.grad == held + local * grad,
                "a already held \(held) and receives \(local)·\(grad): expected \(held + local * grad), got \(x.grad)\(x.grad == local * grad ? " — overwritten: use +=" : "")")
    }

    @Test func onlyTheDirectInputs() {
        let leaf = Value(1)
        let mid = Value(0, inputs: [leaf], localGrads: [10], op: "inner")
        let top = Value(0, inputs: [mid], localGrads: [3], op: "outer")
        top.grad = 1
        top.propagateGrad()
        observe("[mid.grad, leaf.grad, top.grad] after top.propagateGrad() (localGrads 3 and 10, grad 1)", [mid.grad, leaf.grad, top.grad])
        #expect(mid.grad == 3, "the direct input should receive 3·1 = 3, got \(mid.grad)")
        #expect(leaf.grad == 0,
                "propagateGrad() is one step: inputs of inputs are handled later by backward(); expected leaf.grad 0, got \(leaf.grad)")
        #expect(top.grad == 1, "the value's own grad must stay 1, got \(top.grad)\(top.grad == 0 ? " — do not reset it" : "")")

        // Drawn from the grading seed: other local derivatives and another gradient.
        var g = SeededGenerator(seed: graded(144))
        let inner = wholeNumber(2...20, &g), outer = wholeNumber(-99...(-1), &g), grad = wholeNumber(2...99, &g)
        let l = Value(1)
        let m = Value(0, inputs: [l], localGrads: [inner], op: "inner")
        let t = Value(0, inputs: [m], localGrads: [outer], op: "outer")
        t.grad = grad
        t.propagateGrad()
        observe("[mid.grad, leaf.grad, top.grad] after top.propagateGrad() (localGrads \(outer) and \(inner), grad \(grad))", [m.grad, l.grad, t.grad])
        #expect([m.grad, l.grad, t.grad] == [outer * grad, 0, grad],
                "propagateGrad() is one step: expected mid.grad \(outer * grad), leaf.grad 0 and top.grad \(grad) unchanged, got \([m.grad, l.grad, t.grad])")
    }

    @Test func aLeafHasNothingToSend() {
        let a = Value(3)
        a.grad = 2
        a.propagateGrad()
        observe("a leaf's grad after propagateGrad() (it held 2)", a.grad)
        #expect(a.grad == 2, "a leaf has no inputs: propagateGrad() leaves everything as it was")

        // Drawn from the grading seed: a leaf holding another gradient.
        var g = SeededGenerator(seed: graded(145))
        let held = Double.random(in: -10...10, using: &g)
        let x = Value(Double.random(in: -10...10, using: &g))
        x.grad = held
        x.propagateGrad()
        observe("a leaf's grad after propagateGrad() (it held \(held))", x.grad)
        #expect(x.grad == held, "a leaf has no inputs: propagateGrad() leaves everything as it was; expected grad \(held), got \(x.grad)")
    }

    @Test func aZeroGradientSendsNothing() {
        let a = Value(1), b = Value(1)
        b.grad = 5
        let y = Value(0, inputs: [a, b], localGrads: [7, 9], op: "custom")
        y.propagateGrad()
        observe("[a.grad, b.grad] after propagateGrad() with grad 0 (b held 5)", [a.grad, b.grad])
        #expect(a.grad == 0 && b.grad == 5, "with grad 0 the inputs receive 0: expected a.grad 0 and b.grad 5, got \(a.grad), \(b.grad)\(b.grad == 0 ? " — b's 5 was overwritten: add with +=" : "")")

        // Drawn from the grading seed: other local derivatives and another gradient already held.
        var g = SeededGenerator(seed: graded(146))
        let held = wholeNumber(1...99, &g), locals = [wholeNumber(-9...9, &g), wholeNumber(-9...9, &g)]
        let x = Value(1), z = Value(1)
        z.grad = held
        let node = Value(0, inputs: [x, z], localGrads: locals, op: "custom")
        node.propagateGrad()
        observe("[a.grad, b.grad] after propagateGrad() with grad 0 (localGrads \(locals), b held \(held))", [x.grad, z.grad])
        #expect(x.grad == 0 && z.grad == held, "with grad 0 the inputs receive 0: expected a.grad 0 and b.grad \(held), got \(x.grad), \(z.grad)\(z.grad == 0 ? " — b's \(held) was overwritten: add with +=" : "")")
    }
}

// MARK: - 1.5 backward

@Suite struct Exercise_1_5 {
    @Test func aValueTimesItself() {
        let a = Value(-3)
        let y = a * a
        y.backward()
        observe("a.grad after (a·a).backward(), a = −3", a.grad)
        let hint = a.grad == -3 ? " — one use overwrote the other (use += when passing gradients back)" : ""
        #expect(a.grad == -6, "∂(a·a)/∂a = 2a = −6, got \(a.grad)\(hint)")

        // Drawn from the grading seed: another value.
        var g = SeededGenerator(seed: graded(151))
        let x = Value(Double.random(in: -10...10, using: &g))
        let z = x * x
        z.backward()
        observe("a.grad after (a·a).backward(), a = \(x.data)", x.grad)
        #expect(x.grad == 2 * x.data, "∂(a·a)/∂a = 2a = \(2 * x.data), got \(x.grad)\(x.grad == x.data ? " — one use overwrote the other (use += when passing gradients back)" : "")")
    }

    @Test func aDiamond() {
        // z = (x·x) · (3x) = 3x³, dz/dx = 9x² = 36 at x = 2; x reaches z along two paths.
        let x = Value(2)
        let p = x * x, q = x * 3
        let z = p * q
        z.backward()
        observe("dz/dx for z = (x·x)·(3x) at x = 2", x.grad)
        observe("[∂z/∂p, ∂z/∂q] for p = x·x, q = 3x at x = 2", [p.grad, q.grad])
        #expect(x.grad == 36, "z = (x·x)·(3x) at x = 2: expected dz/dx = 9x² = 36, got \(x.grad)")
        #expect(p.grad == 6 && q.grad == 4, "intermediate gradients: expected ∂z/∂p = q = 6 and ∂z/∂q = p = 4, got \(p.grad) and \(q.grad)")

        // Drawn from the grading seed: another whole number x (so every sum is exact, in any order).
        var g = SeededGenerator(seed: graded(152))
        let v = wholeNumber(-99_999...99_999, &g)
        let u = Value(v)
        let pu = u * u, qu = u * 3
        let zu = pu * qu
        zu.backward()
        observe("dz/dx for z = (x·x)·(3x) at x = \(v)", u.grad)
        observe("[∂z/∂p, ∂z/∂q] for p = x·x, q = 3x at x = \(v)", [pu.grad, qu.grad])
        #expect(u.grad == 9 * v * v && pu.grad == 3 * v && qu.grad == v * v,
                "z = (x·x)·(3x) at x = \(v): expected dz/dx = 9x² = \(9 * v * v), ∂z/∂p = \(3 * v), ∂z/∂q = \(v * v); got \(u.grad), \(pu.grad), \(qu.grad)")
    }

    @Test func aChainOf100000Values() {
        // v = x + x + … + x (100,001 times): dv/dx = 100,001.
        let x = Value(0.5)
        var v = x
        for _ in 0..<100_000 { v = v + x }
        v.backward()
        observe("dv/dx for v = x + x + … + x (100,001 times)", x.grad)
        #expect(x.grad == 100_001, "x used 100,001 times in a 100,000-deep chain: expected dv/dx = 100001, got \(x.grad)")

        // Drawn from the grading seed: a chain of another length.
        var g = SeededGenerator(seed: graded(153))
        let length = Int.random(in: 100_000...110_000, using: &g)
        let y = Value(Double.random(in: -2...2, using: &g))
        var w = y
        var middle = y
        for i in 0..<length {
            w = w + y
            if i == length / 2 { middle = w }
        }
        w.backward()
        observe("dv/dx for v = x + x + … + x (\(length + 1) times)", y.grad)
        observe("[∂v/∂v, ∂v/∂(the value halfway along the chain)] for \(length + 1) uses", [w.grad, middle.grad])
        #expect(y.grad == Double(length + 1) && w.grad == 1 && middle.grad == 1,
                "x used \(length + 1) times in a \(length)-deep chain: expected dv/dx = \(length + 1), and 1 for v and for the value halfway along; got \(y.grad), \(w.grad), \(middle.grad)")
    }

    @Test func twoBackwardCalls() {
        // y = tanh(w·x) · 2; the leaves accumulate, computed values hold one pass.
        let w = Value(0.3), x = Value(-1.2)
        let m = w * x
        let t = m.tanh()
        let y = t * 2
        y.backward()
        let once = (w: w.grad, x: x.grad, m: m.grad)
        y.backward()
        observe("[w.grad, x.grad] after two backward() calls, y = tanh(w·x)·2, w = 0.3, x = −1.2", [w.grad, x.grad], atol: 1e-9, rtol: 1e-9)
        observe("y.grad after two backward() calls", y.grad)
        observe("m.grad (m = w·x) after two backward() calls", m.grad, atol: 1e-9, rtol: 1e-9)
        let factor = w.grad / once.w
        let hint = close(factor, 3) ? " — 3×: computed values kept their gradient from the first pass and passed it on again; set non-leaf grads to 0 before propagating"
            : close(factor, 1) ? " — the second call changed nothing: leaves must accumulate (+=), not be reset"
            : ""
        #expect(close(w.grad, 2 * once.w) && close(x.grad, 2 * once.x),
                "after two backward() calls leaves hold twice one pass: expected w.grad \(2 * once.w), got \(w.grad)\(hint)")
        #expect(y.grad == 1, "the output's gradient is ∂y/∂y = 1 on every call, got \(y.grad)")
        #expect(close(m.grad, once.m), "a computed value holds this pass's gradient \(once.m), got \(m.grad)")

        // Drawn from the grading seed: other leaves.
        var g = SeededGenerator(seed: graded(154))
        let w2 = Value(Double.random(in: -1.5...1.5, using: &g)), x2 = Value(Double.random(in: -1.5...1.5, using: &g))
        let m2 = w2 * x2
        let y2 = m2.tanh() * 2
        y2.backward()
        let once2 = (w: w2.grad, x: x2.grad, m: m2.grad)
        y2.backward()
        observe("[w.grad, x.grad] after one backward() call, y = tanh(w·x)·2, w = \(w2.data), x = \(x2.data)", [once2.w, once2.x], atol: 1e-9, rtol: 1e-9)
        observe("[w.grad, x.grad] after two backward() calls, w = \(w2.data), x = \(x2.data)", [w2.grad, x2.grad], atol: 1e-9, rtol: 1e-9)
        observe("[y.grad, m.grad] after two backward() calls, w = \(w2.data), x = \(x2.data)", [y2.grad, m2.grad], atol: 1e-9, rtol: 1e-9)
        #expect(close(w2.grad, 2 * once2.w) && close(x2.grad, 2 * once2.x) && y2.grad == 1 && close(m2.grad, once2.m),
                "after two backward() calls (w = \(w2.data), x = \(x2.data)) leaves hold twice one pass and computed values one pass: expected w.grad \(2 * once2.w), x.grad \(2 * once2.x), y.grad 1, m.grad \(once2.m); got \(w2.grad), \(x2.grad), \(y2.grad), \(m2.grad)")
    }

    @Test func zeroGradThenBackwardAgain() {
        let a = Value(1.5), b = Value(-0.5)
        let y = (a * b).tanh() + a
        y.backward()
        let first = (a.grad, b.grad)
        y.zeroGrad(wholeGraph: true)
        y.backward()
        observe("[a.grad, b.grad] after backward(), zeroGrad(wholeGraph: true), backward(); y = tanh(a·b) + a, a = 1.5, b = −0.5", [a.grad, b.grad], atol: 1e-9, rtol: 1e-9)
        #expect(close(a.grad, first.0) && close(b.grad, first.1),
                "after zeroGrad(wholeGraph: true) a new backward() gives the same gradients: expected \(first), got \((a.grad, b.grad))")

        // Drawn from the grading seed: other leaves.
        var g = SeededGenerator(seed: graded(155))
        let c = Value(Double.random(in: -2...2, using: &g)), d = Value(Double.random(in: -2...2, using: &g))
        let z = (c * d).tanh() + c
        z.backward()
        let firstSeeded = (c.grad, d.grad)
        z.zeroGrad(wholeGraph: true)
        z.backward()
        observe("[a.grad, b.grad] after backward(), zeroGrad(wholeGraph: true), backward(); a = \(c.data), b = \(d.data)", [c.grad, d.grad], atol: 1e-9, rtol: 1e-9)
        #expect(close(c.grad, firstSeeded.0) && close(d.grad, firstSeeded.1),
                "after zeroGrad(wholeGraph: true) a new backward() gives the same gradients (a = \(c.data), b = \(d.data)): expected \(firstSeeded), got \((c.grad, d.grad))")
    }

    @Test func backwardOnALeaf() {
        let a = Value(4)
        a.backward()
        observe("a.grad after a.backward() on a leaf", a.grad)
        #expect(a.grad == 1, "∂a/∂a = 1, got \(a.grad)")

        // Drawn from the grading seed: backward() on a leaf, then on a product that uses it (leaves accumulate).
        var g = SeededGenerator(seed: graded(156))
        let x = Value(Double.random(in: -5...5, using: &g)), k = Value(Double.random(in: -5...5, using: &g))
        x.backward()
        let afterLeaf = x.grad
        let y = x * k
        y.backward()
        observe("a.grad after a.backward() on a leaf, a = \(x.data)", afterLeaf)
        observe("[a.grad, k.grad] after then (a·k).backward(), a = \(x.data), k = \(k.data)", [x.grad, k.grad])
        #expect(afterLeaf == 1 && x.grad == 1 + k.data && k.grad == x.data,
                "∂a/∂a = 1 for a leaf; after (a·k).backward() a leaf accumulates: expected a.grad 1, then \(1 + k.data), and k.grad \(x.data); got \(afterLeaf), \(x.grad), \(k.grad)")
    }

    @Test func backwardFromAnIntermediateValue() {
        let a = Value(2), b = Value(5), e = Value(1)
        let c = a * b
        let d = c * e
        c.backward()
        observe("[a.grad, b.grad] after c.backward(), c = a·b, a = 2, b = 5", [a.grad, b.grad])
        observe("[e.grad, d.grad] for d = c·e, outside c's graph", [e.grad, d.grad])
        #expect(a.grad == 5 && b.grad == 2, "∂c/∂a = b = 5, ∂c/∂b = a = 2; got \(a.grad), \(b.grad)")
        #expect(e.grad == 0 && d.grad == 0, "values outside c's graph (d = c·e, e) must keep grad 0; got e \(e.grad), d \(d.grad)")

        // Drawn from the grading seed: other values.
        var g = SeededGenerator(seed: graded(157))
        let p = Value(Double.random(in: -9...9, using: &g)), q = Value(Double.random(in: -9...9, using: &g)), r = Value(Double.random(in: -9...9, using: &g))
        let pq = p * q
        let s = pq * r
        pq.backward()
        observe("[a.grad, b.grad] after c.backward(), c = a·b, a = \(p.data), b = \(q.data)", [p.grad, q.grad])
        observe("[e.grad, d.grad] for d = c·e, outside c's graph, e = \(r.data)", [r.grad, s.grad])
        #expect(p.grad == q.data && q.grad == p.data && r.grad == 0 && s.grad == 0,
                "c = a·b with a = \(p.data), b = \(q.data): expected ∂c/∂a = \(q.data), ∂c/∂b = \(p.data), and 0 for d = c·e and e; got \(p.grad), \(q.grad), \(s.grad), \(r.grad)")
    }

    @Test func anUnusedBranchGetsNothing() {
        let a = Value(2), b = Value(3)
        let used = a * b
        let unused = b * 10
        let y = used + a
        y.backward()
        observe("the grad of b·10, which y = a·b + a does not use", unused.grad)
        observe("[a.grad, b.grad] for y = a·b + a, a = 2, b = 3", [a.grad, b.grad])
        #expect(unused.grad == 0, "a value the output does not depend on gets no gradient, got \(unused.grad)")
        #expect(a.grad == 4 && b.grad == 2, "y = a·b + a: expected ∂y/∂a = b + 1 = 4 and ∂y/∂b = a = 2, got \(a.grad), \(b.grad)")

        // Drawn from the grading seed: other whole numbers.
        var g = SeededGenerator(seed: graded(158))
        let c = Value(wholeNumber(-5000...5000, &g)), d = Value(wholeNumber(-5000...5000, &g))
        let cd = c * d
        let notUsed = d * 10
        let z = cd + c
        z.backward()
        observe("the grad of b·10, which y = a·b + a does not use (a = \(c.data), b = \(d.data))", notUsed.grad)
        observe("[a.grad, b.grad] for y = a·b + a, a = \(c.data), b = \(d.data)", [c.grad, d.grad])
        #expect(notUsed.grad == 0 && c.grad == d.data + 1 && d.grad == c.data,
                "y = a·b + a with a = \(c.data), b = \(d.data): expected ∂y/∂a = b + 1 = \(d.data + 1), ∂y/∂b = a = \(c.data), and 0 for the unused b·10; got \(c.grad), \(d.grad), \(notUsed.grad)")
    }

    @Test func randomExpressionsAgreeWithFiniteDifferences() {
        var g = SeededGenerator(seed: graded(15))
        var gradients: [Double] = []
        for trial in 0..<30 {
            let inputs = (0..<3).map { _ in Double.random(in: -1.5...1.5, using: &g) }
            let choices = (0..<12).map { _ in (Int.random(in: 0..<5, using: &g), Int.random(in: 0..<100, using: &g), Int.random(in: 0..<100, using: &g)) }
            // The same random program, run on any leaves.
            func program(_ leaves: [Value]) -> Value {
                var pool = leaves
                for (op, i, j) in choices {
                    let a = pool[i % pool.count], b = pool[j % pool.count]
                    switch op {
                    case 0: pool.append(a + b)
                    case 1: pool.append(a * b)
                    case 2: pool.append(a.tanh())
                    case 3: pool.append(a - b * 0.5)
                    default: pool.append((a * b).tanh() + a)
                    }
                }
                return pool.suffix(4).reduce(Value(0)) { $0 + $1 }
            }
            let leaves = inputs.map { Value($0) }
            program(leaves).backward()
            gradients += leaves.map(\.grad)
            for k in 0..<3 {
                let h = 1e-6
                var up = inputs, down = inputs
                up[k] += h; down[k] -= h
                let numeric = (program(up.map { Value($0) }).data - program(down.map { Value($0) }).data) / (2 * h)
                let ok = close(leaves[k].grad, numeric, 1e-5)
                #expect(ok, "random expression \(trial) (seed 15), input \(k): backward gave \(leaves[k].grad), finite differences \(numeric)")
                if !ok { return }  // one failing case is enough to read
            }
        }
        observe("the gradients of the 3 leaves of each of 30 random expressions", gradients, atol: 2e-5, rtol: 2e-5)
    }
}
