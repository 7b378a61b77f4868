// Where does a wrong gradient come from? (lessons 6 and 7)
//
// `gradcheck` (lesson 7) tells you *that* an input's gradient is wrong. In a
// graph of twenty ops that is where the search begins: any backward rule
// between that input and the loss may be the broken one. `diagnoseGradients`
// finds it, with one idea — check the gradient of *every* tensor in the graph,
// not only the leaves, walking from the loss back:
//
//     W ──▶ matmul ──▶ add ──▶ mul ──▶ sum = loss
//     ✗       ✗         ✗      ✓       ✓
//
// The loss's own gradient is 1: right. Each tensor's gradient is made, by the
// backward rules of the ops that read it, from the gradients of their outputs.
// So the first tensor whose gradient is wrong while the outputs of the ops
// that read it are right was handed a wrong gradient by one of those ops: that
// op's backward rule is the bug (here `mul`'s, towards its input `add`).
// Everything further back inherits the error.
//
// Both gradients of a tensor t are needed:
//
// - the *analytic* one, from the graph's own backward closures (the rules you
//   wrote), called by a walk of this file's own, in reverse recording order —
//   so a bug in `backward()` (exercise 6.5) cannot hide a bug in a rule;
// - the *numerical* one, ∂loss/∂tᵢ ≈ (loss(tᵢ + h) − loss(tᵢ − h)) / 2h, by
//   running the computation again with one element moved. A leaf is moved in
//   place (and put back). An intermediate tensor exists only during a run, so
//   the diagnosis listens at `Tensor.record` (GradientProbe.swift) and has
//   the op that makes t hand back a perturbed copy instead.
//
// Cost: two runs of the computation per element checked. At most
// `samplesPerTensor` elements are checked per tensor (the one with the largest
// gradient and a seeded random choice of the others), and the walk stops at
// the first wrong tensor.

/// Finds the backward rule that makes a gradient wrong.
///
/// `f` builds a graph from leaves that require grad and returns a scalar loss.
/// It is run once to record the graph, then again and again with one element
/// of one tensor moved, so it must compute the same thing each time (no
/// unseeded randomness; a model in `eval()` mode or dropout seeded inside `f`).
/// Leaves' `grad`s are not touched, and `backward()` is never called.
///
///     let w = Tensor.randn([3, 4], requiresGrad: true), x = Tensor.randn([2, 3])
///     let diagnosis = diagnoseGradients(names: ["w": w]) { (x.matmul(w).relu() * 2).sum() }
///     print(diagnosis)   // "Every gradient agrees …" or where it first goes wrong
///
/// - Parameters:
///   - names: names for leaves (parameters, inputs), used in the report.
///   - samplesPerTensor: the most elements of each tensor to check.
///   - epsilon: the finite-difference step is `epsilon`·max(1, |tᵢ|).
///   - atol, rtol: an element agrees when |analytic − numerical| ≤
///     atol + rtol·|numerical| + the rounding noise of a Float32 loss
///     difference (8 ulp of the loss over the step).
public func diagnoseGradients(names: [String: Tensor] = [:], samplesPerTensor: Int = 8, epsilon: Float = 1e-2,
                              atol: Double = 1e-4, rtol: Double = 1e-2,
                              _ f: () -> Tensor) -> GradientDiagnosis {
    require(samplesPerTensor >= 1, "diagnoseGradients: samplesPerTensor must be at least 1")
    return withoutActuallyEscaping(f) { f in
        var diagnoser = GradientDiagnoser(f: f, samples: samplesPerTensor, epsilon: epsilon, atol: atol, rtol: rtol)
        for (name, tensor) in names { diagnoser.names[ObjectIdentifier(tensor)] = name }
        return diagnoser.diagnose()
    }
}

/// The state of one diagnosis. Tensors are keyed by `ObjectIdentifier`; they
/// stay alive because the tape holds them.
private struct GradientDiagnoser {
    let f: () -> Tensor
    let samples: Int
    let epsilon: Float
    let atol: Double, rtol: Double
    var names: [ObjectIdentifier: String] = [:]

    var tape: [GradientProbe.Entry] = []
    var loss: Tensor! = nil
    var lossValue: Double = 0
    /// The op (tape index) that produced each recorded tensor.
    var producer: [ObjectIdentifier: Int] = [:]
    /// The ops reading each tensor that requires grad, and in which input slot.
    var readers: [ObjectIdentifier: [(op: Int, slot: Int)]] = [:]
    var tensors: [ObjectIdentifier: Tensor] = [:]
    /// Analytic gradients, and what each op's rule returned.
    var grads: [ObjectIdentifier: Tensor] = [:]
    var ruleOutputs: [Int: [Tensor?]] = [:]
    var evaluations = 0
    var checked: [CheckedGradient] = []

    init(f: @escaping () -> Tensor, samples: Int, epsilon: Float, atol: Double, rtol: Double) {
        self.f = f
        self.samples = samples
        self.epsilon = epsilon
        self.atol = atol
        self.rtol = rtol
    }

    // MARK: The plan

    mutating func diagnose() -> GradientDiagnosis {
        let probe = GradientProbe(keepsTape: true)
        loss = probe.run(f)
        tape = probe.tape
        require(loss.count == 1, "diagnoseGradients: f must return a one-element loss, not shape \(loss.shape)")
        lossValue = Double(loss.item())
        evaluations = 1
        let finding = firstProblem(tapeLength: tape.count)
        return GradientDiagnosis(loss: loss, lossValue: Float(lossValue), checked: checked, finding: finding,
                                 evaluations: evaluations)
    }

    private mutating func firstProblem(tapeLength: Int) -> GradientFinding? {
        // Same loss, same ops, on a second run? Otherwise no difference means anything.
        guard lossValue.isFinite else {
            return .init(kind: .nonFiniteLoss, op: "", inputShapes: [], outputShape: [], inputs: [],
                         detail: "the loss is \(lossValue)")
        }
        let again = GradientProbe(keepsTape: false)
        let second = Double(again.run(f).item())
        evaluations += 1
        if second != lossValue || again.count != tapeLength {
            return .init(kind: .notDeterministic, op: "", inputShapes: [], outputShape: [], inputs: [],
                         detail: "loss \(lossValue) then \(second), \(tapeLength) then \(again.count) recorded ops")
        }
        indexTape()
        if let problem = unrecordedOp() ?? analyticGradients() { return problem }
        for t in walkOrder() {
            let check = checkNumerically(t)
            checked.append(check)
            if !check.agrees { return blame(t, check) }
        }
        return nil
    }

    // MARK: The graph, from the tape

    private mutating func indexTape() {
        for (k, entry) in tape.enumerated() where entry.tracked {
            producer[ObjectIdentifier(entry.result)] = k
            tensors[ObjectIdentifier(entry.result)] = entry.result
            for (slot, input) in entry.inputs.enumerated() where input.requiresGrad {
                readers[ObjectIdentifier(input), default: []].append((k, slot))
                tensors[ObjectIdentifier(input)] = input
            }
        }
    }

    /// An op that `record` was given but did not record (exercise 6.1).
    private func unrecordedOp() -> GradientFinding? {
        guard let k = tape.indices.first(where: { tape[$0].tracked && tape[$0].result.node == nil }) else { return nil }
        return finding(.notRecorded, op: k, inputs: [])
    }

    /// Every tensor the loss's gradient reaches, each after every op that
    /// reads it: from the output back. A leaf comes right after the earliest
    /// op that reads it (in reverse order, the last of its readers).
    private func walkOrder() -> [Tensor] {
        var reached: Set<ObjectIdentifier> = [ObjectIdentifier(loss)]
        var keyed: [(key: Double, tensor: Tensor)] = []
        for k in tape.indices.reversed() where tape[k].tracked && reached.contains(ObjectIdentifier(tape[k].result)) {
            for input in tape[k].inputs where input.requiresGrad && reached.insert(ObjectIdentifier(input)).inserted {
                let first = readers[ObjectIdentifier(input)]!.map(\.op).min()!
                keyed.append((producer[ObjectIdentifier(input)].map(Double.init) ?? Double(first) - 0.5, input))
            }
        }
        return keyed.sorted { $0.key > $1.key }.map(\.tensor)
    }

    // MARK: Analytic gradients: the graph's own rules, our own walk

    private mutating func analyticGradients() -> GradientFinding? {
        grads[ObjectIdentifier(loss)] = Tensor.ones(loss.shape)
        for k in tape.indices.reversed() where tape[k].tracked {
            let entry = tape[k]
            guard let g = grads[ObjectIdentifier(entry.result)] else { continue }
            let inputGrads = noGrad { entry.backward(g) }
            guard inputGrads.count == entry.inputs.count else {
                return finding(.wrongCount, op: k, inputs: [],
                               detail: "it returned \(inputGrads.count) gradients for \(entry.inputs.count) inputs")
            }
            ruleOutputs[k] = inputGrads
            for (slot, (input, inputGrad)) in zip(entry.inputs, inputGrads).enumerated() where input.requiresGrad {
                guard let inputGrad else { continue }  // counted as zero; the numbers will tell
                guard inputGrad.shape == input.shape else {
                    return finding(.wrongShape, op: k, inputs: [slot],
                                   detail: "it returned a gradient of shape \(inputGrad.shape) for input \(slot), of shape \(input.shape)")
                }
                let key = ObjectIdentifier(input)
                grads[key] = noGrad { grads[key].map { $0 + inputGrad } ?? inputGrad }
            }
        }
        return nil
    }

    private func analytic(_ t: Tensor) -> [Float] {
        grads[ObjectIdentifier(t)]?.toArray() ?? [Float](repeating: 0, count: t.count)
    }

    // MARK: Numerical gradients: run f again with one element moved

    /// The loss with element `flat` of `t` set to `value`, and the values of
    /// the results of the ops `watching`.
    private mutating func loss(with t: Tensor, at flat: Int, setTo value: Float,
                               watching: Set<Int> = []) -> (loss: Double, watched: [Int: [Float]]) {
        let probe = GradientProbe(keepsTape: false)
        probe.watched = watching
        evaluations += 1
        if let k = producer[ObjectIdentifier(t)] {
            probe.replacement = (k, flat, value)
            let l = Double(probe.run(f).item())
            return (l, probe.captured)
        }
        // A leaf: f reads it directly, so it is moved in place and put back.
        let index = rowMajorIndex(flat, shape: t.shape)
        let slot = t.offset + zip(index, t.strides).reduce(0) { $0 + $1.0 * $1.1 }
        let original = t.storage.base[slot]
        t.storage.base[slot] = value
        defer { t.storage.base[slot] = original }
        let l = Double(probe.run(f).item())
        return (l, probe.captured)
    }

    /// The steps actually taken (in Float32) and the losses they gave.
    struct Difference {
        var up: Double, down: Double           // the steps: x⁺ − x and x − x⁻
        var lossUp: Double, lossDown: Double
        var watchedUp: [Int: [Float]], watchedDown: [Int: [Float]]
        var span: Double { up + down }
    }

    private mutating func difference(of t: Tensor, at flat: Int, value x: Float, scale: Float = 1,
                                     watching: Set<Int> = []) -> Difference {
        let h = scale * epsilon * Swift.max(1, Swift.abs(x))
        let (xUp, xDown) = (x + h, x - h)
        let up = loss(with: t, at: flat, setTo: xUp, watching: watching)
        let down = loss(with: t, at: flat, setTo: xDown, watching: watching)
        return Difference(up: Double(xUp) - Double(x), down: Double(x) - Double(xDown),
                          lossUp: up.loss, lossDown: down.loss, watchedUp: up.watched, watchedDown: down.watched)
    }

    /// Rounding noise of a Float32 loss difference over `span`: 8 ulp.
    private func noise(_ d: Difference) -> Double {
        8 * Double(Float.ulpOfOne) * Swift.max(Swift.abs(lossValue), Swift.abs(d.lossUp), Swift.abs(d.lossDown)) / d.span
    }

    private func allowed(_ numerical: Double, noise: Double) -> Double {
        atol + rtol * Swift.abs(numerical) + noise
    }

    /// How far `analytic` misses its tolerance (negative: it agrees; NaN: +∞).
    private func excess(_ analytic: Double, _ numerical: Double, noise: Double) -> Double {
        let error = Swift.abs(analytic - numerical)
        return error.isNaN ? .infinity : error - allowed(numerical, noise: noise)
    }

    private func sampleIndices(_ gradient: [Float], seed: Int) -> [Int] {
        guard gradient.count > samples else { return Array(gradient.indices) }
        let largest = gradient.indices.max { Swift.abs(gradient[$0]) < Swift.abs(gradient[$1]) }!
        var picked: Set<Int> = [largest]
        var generator = SeededGenerator(seed: UInt64(seed))
        while picked.count < samples { picked.insert(Int(generator.next() % UInt64(gradient.count))) }
        return picked.sorted()
    }

    private mutating func checkNumerically(_ t: Tensor) -> CheckedGradient {
        let values = t.toArray()
        let gradient = analytic(t)
        var worst = (flat: 0, excess: -Double.infinity, expected: 0.0, got: 0.0)
        var compared = 0, kinks = 0
        for i in sampleIndices(gradient, seed: checked.count) {
            let a = Double(gradient[i])
            var miss = Double.infinity, central = Double.nan, kink = false
            // A kink (relu at 0, max at a tie) between x − h and x + h makes the
            // central difference a blend of two slopes. Such a kink is rarely
            // crossed by a step ten times smaller; and where one is crossed, a
            // rule that matches the slope on one side is no bug. A wrong rule
            // stays wrong at every step.
            for scale: Float in [1, 0.1] {
                let d = difference(of: t, at: i, value: values[i], scale: scale)
                central = (d.lossUp - d.lossDown) / d.span
                miss = excess(a, central, noise: noise(d))
                if miss <= 0 { break }
                let right = (d.lossUp - lossValue) / d.up, left = (lossValue - d.lossDown) / d.down
                let oneSided = 2 * noise(d)
                let slopesDiffer = excess(right, left, noise: oneSided) > 0
                kink = slopesDiffer && Swift.min(excess(a, right, noise: oneSided), excess(a, left, noise: oneSided)) <= 0
                if kink { break }
            }
            if kink {
                kinks += 1
                continue
            }
            compared += 1
            if miss > worst.excess { worst = (i, miss, central, a) }
        }
        return CheckedGradient(id: ObjectIdentifier(t), label: label(t), shape: t.shape, compared: compared, kinks: kinks,
                               worstIndex: compared == 0 ? [] : rowMajorIndex(worst.flat, shape: t.shape),
                               expected: worst.expected, got: worst.got, agrees: worst.excess <= 0)
    }

    // MARK: Blame: which reader of the first wrong tensor?

    private mutating func blame(_ t: Tensor, _ check: CheckedGradient) -> GradientFinding {
        let key = ObjectIdentifier(t)
        let uses = readers[key]!
        var ops: [Int] = []
        for use in uses.reversed() where !ops.contains(use.op) { ops.append(use.op) }
        var culprit = ops[0]
        if ops.count > 1 { culprit = wrongReader(of: t, among: ops, at: check.worstIndex) }
        let slots = uses.filter { $0.op == culprit }.map(\.slot)
        // Everything before t in the graph inherits the error: t and its ancestors.
        var affected: [ObjectIdentifier] = [key]
        var seen: Set<ObjectIdentifier> = [key]
        var head = 0
        while head < affected.count {
            if let k = producer[affected[head]] {
                for input in tape[k].inputs where input.requiresGrad && seen.insert(ObjectIdentifier(input)).inserted {
                    affected.append(ObjectIdentifier(input))
                }
            }
            head += 1
        }
        var result = finding(.wrongGradient, op: culprit, inputs: slots)
        result.index = check.worstIndex
        result.expected = check.expected
        result.got = check.got
        result.wrongTensor = check.label
        result.affected = affected
        result.affectedLabels = affected.map { label(tensors[$0]!) }
        return result
    }

    /// With several ops reading `t`, the one whose rule is wrong: each op's
    /// own contribution to t's gradient, Σⱼ gYⱼ·∂Yⱼ/∂tᵢ, is measured from the
    /// change in its output Y (with gY its output's gradient, which is right)
    /// and compared with what its rule returned. An op whose other inputs also
    /// depend on t cannot be measured this way; it is blamed only if no
    /// measurable op is wrong.
    private mutating func wrongReader(of t: Tensor, among ops: [Int], at index: [Int]) -> Int {
        let flat = index.isEmpty ? 0 : zip(index, contiguousStrides(t.shape)).reduce(0) { $0 + $1.0 * $1.1 }
        let d = difference(of: t, at: flat, value: t.toArray()[flat], watching: Set(ops))
        var best: (op: Int, excess: Double)? = nil
        var unmeasurable: [Int] = []
        for k in ops {
            let entry = tape[k]
            let others = entry.inputs.filter { $0 !== t }
            if others.contains(where: { depends($0, on: t) }) { unmeasurable.append(k); continue }
            guard let up = d.watchedUp[k], let down = d.watchedDown[k] else { continue }
            let gY = analytic(entry.result)
            var measured = 0.0
            for j in gY.indices { measured += Double(gY[j]) * (Double(up[j]) - Double(down[j])) }
            measured /= d.span
            var returned = 0.0
            for (slot, input) in entry.inputs.enumerated() where input === t {
                if let g = ruleOutputs[k]?[slot] { returned += Double(g.toArray()[flat]) }
            }
            let miss = excess(returned, measured, noise: noise(d))
            if best == nil || miss > best!.excess { best = (k, miss) }
        }
        if let best, best.excess > 0 { return best.op }
        return unmeasurable.first ?? best?.op ?? ops[0]
    }

    /// Whether `a` is computed from `t` (through recorded ops).
    private func depends(_ a: Tensor, on t: Tensor) -> Bool {
        var stack = [a]
        var seen = Set<ObjectIdentifier>()
        while let x = stack.popLast() {
            if x === t { return true }
            guard seen.insert(ObjectIdentifier(x)).inserted, let k = producer[ObjectIdentifier(x)] else { continue }
            stack.append(contentsOf: tape[k].inputs.filter(\.requiresGrad))
        }
        return false
    }

    // MARK: Reporting

    private func label(_ t: Tensor) -> String {
        let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
        if let name = names[ObjectIdentifier(t)] { return "`\(name)` \(shape)" }
        if let k = producer[ObjectIdentifier(t)] { return "`\(tape[k].op)` \(shape)" }
        return "leaf \(shape)"
    }

    private func finding(_ kind: GradientFinding.Kind, op k: Int, inputs: [Int], detail: String = "") -> GradientFinding {
        let entry = tape[k]
        var result = GradientFinding(kind: kind, op: entry.op, inputShapes: entry.inputs.map(\.shape),
                                     outputShape: entry.result.shape, inputs: inputs, detail: detail)
        result.faultyNode = ObjectIdentifier(entry.result)
        return result
    }
}
