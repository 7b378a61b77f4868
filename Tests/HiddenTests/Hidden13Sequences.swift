import Foundation
import Kindling
import Testing

// Hidden tests of lesson 13 (sequences). The grader maps each test to its
// exercise by the suite name `Exercise_13_N`; each suite uses only its own
// exercise and earlier ones (13.3's never call backward(), 13.5's take single
// steps, 13.7's run the LSTM layer, whose loop is finished code). They probe
// what the visible tests do not: texts and vocabularies of drawn sizes,
// characters that never occur, a text of one character, α = 0; ids of shape
// [B, T] with many repeats, tables and incoming gradients that are views;
// recurrent cells of drawn sizes with and without biases, a batch of one, a
// sequence of length 1, inputs stored time-first or strided and viewed
// batch-first, a padded batch, the gradient through 50 steps (by hand for the
// RNN, by finite differences in Double for the LSTM); clipping with parameters
// lacking gradients, transposed gradients and an exploding RNN.
//
// Every test observes the values the learner's code produced (see
// Support/Observe.swift), drawn from the grading seed.

// MARK: - Helpers: the arithmetic by hand, in Double

/// `count` numbers `scale`·N(0, 1) + `shift` from `g`.
private func drawn(_ count: Int, _ g: inout SeededGenerator, scale: Float = 1, shift: Float = 0) -> [Float] {
    (0..<count).map { _ in g.nextNormal() * scale + shift }
}

/// A tensor of `shape` drawn from `g`.
private func drawnTensor(_ shape: [Int], _ g: inout SeededGenerator, scale: Float = 1, shift: Float = 0,
                         requiresGrad: Bool = false) -> Tensor {
    Tensor(drawn(shape.reduce(1, *), &g, scale: scale, shift: shift), shape: shape, requiresGrad: requiresGrad)
}

/// `count` ids in 0..<v, drawn unevenly (low ids more often), so some ids repeat and some never occur.
private func drawnIds(_ count: Int, below v: Int, _ g: inout SeededGenerator) -> [Int] {
    (0..<count).map { _ in Swift.min(v - 1, Int(Float(v) * g.nextUnitFloat() * g.nextUnitFloat() * 1.5)) }
}

/// Whether `got` is within `atol + rtol·|expected|` of `expected` everywhere.
private func near(_ got: [Float], _ expected: [Double], atol: Double = 1e-5, rtol: Double = 1e-4) -> Bool {
    got.count == expected.count && zip(got, expected).allSatisfy { Swift.abs(Double($0) - $1) <= atol + rtol * Swift.abs($1) }
}

/// The worst place where `got` and `expected` differ, in words.
private func worst(_ got: [Float], _ expected: [Double]) -> String {
    guard got.count == expected.count else { return "\(got.count) values, expected \(expected.count)" }
    guard let i = expected.indices.max(by: { Swift.abs(Double(got[$0]) - expected[$0]) < Swift.abs(Double(got[$1]) - expected[$1]) }) else { return "" }
    return "worst at element \(i): expected \(Float(expected[i])), got \(got[i])"
}

/// The largest magnitude, for tolerances relative to a whole array.
private func largest(_ v: [Double]) -> Double { v.map { Swift.abs($0) }.max() ?? 0 }

/// The bigram by hand: counts and add-α probabilities.
private func bigramByHand(_ ids: [Int], v: Int, alpha: Double) -> (counts: [[Int]], probabilities: [[Double]]) {
    var counts = [[Int]](repeating: [Int](repeating: 0, count: v), count: v)
    if ids.count >= 2 { for k in 0..<(ids.count - 1) { counts[ids[k]][ids[k + 1]] += 1 } }
    let probabilities = counts.map { row -> [Double] in
        let total = Double(row.reduce(0, +)) + alpha * Double(v)
        return total > 0 ? row.map { (Double($0) + alpha) / total } : [Double](repeating: 0, count: v)
    }
    return (counts, probabilities)
}

/// Mean −log P(next | current) over the pairs of `ids`.
private func bigramLossByHand(_ probabilities: [[Double]], _ ids: [Int]) -> Double {
    var total = 0.0
    for k in 0..<(ids.count - 1) { total -= Foundation.log(probabilities[ids[k]][ids[k + 1]]) }
    return total / Double(ids.count - 1)
}

/// A recurrent cell's parameters as Doubles.
private struct Weights {
    var wih: [Double], whh: [Double], bih: [Double]?, bhh: [Double]?
    let input: Int, hidden: Int

    init(_ cell: RecurrentCell) {
        wih = cell.weightIH.toArray().map(Double.init)
        whh = cell.weightHH.toArray().map(Double.init)
        bih = cell.biasIH?.toArray().map(Double.init)
        bhh = cell.biasHH?.toArray().map(Double.init)
        input = cell.inputSize
        hidden = cell.hiddenSize
    }

    /// x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh for a batch: [B, gates·H].
    func preactivations(x: [Double], h: [Double], batch: Int) -> [Double] {
        let rows = wih.count / input
        var out = [Double](repeating: 0, count: batch * rows)
        for n in 0..<batch {
            for r in 0..<rows {
                var s = (bih?[r] ?? 0) + (bhh?[r] ?? 0)
                for k in 0..<input { s += x[n * input + k] * wih[r * input + k] }
                for k in 0..<hidden { s += h[n * hidden + k] * whh[r * hidden + k] }
                out[n * rows + r] = s
            }
        }
        return out
    }

    func rnnStep(x: [Double], h: [Double], batch: Int) -> [Double] {
        preactivations(x: x, h: h, batch: batch).map { Foundation.tanh($0) }
    }

    func lstmStep(x: [Double], h: [Double], c: [Double], batch: Int) -> (h: [Double], c: [Double]) {
        let pre = preactivations(x: x, h: h, batch: batch)
        var hNext = [Double](repeating: 0, count: batch * hidden), cNext = hNext
        for n in 0..<batch {
            for j in 0..<hidden {
                func gate(_ k: Int) -> Double { pre[n * 4 * hidden + k * hidden + j] }
                let i = sigmoid(gate(0)), f = sigmoid(gate(1)), g = Foundation.tanh(gate(2)), o = sigmoid(gate(3))
                let cell = f * c[n * hidden + j] + i * g
                cNext[n * hidden + j] = cell
                hNext[n * hidden + j] = o * Foundation.tanh(cell)
            }
        }
        return (hNext, cNext)
    }
}

private func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

/// Gives every parameter of `module` values scale·N(0, 1) from `g`.
private func drawWeights(_ module: Module, _ g: inout SeededGenerator, scale: Float) {
    let values = module.parameters().map { drawn($0.count, &g, scale: scale) }
    noGrad { for (p, v) in zip(module.parameters(), values) { p.assign(Tensor(v, shape: p.shape)) } }
}

/// Step t of a row-major [B, T, F] array, as [B, F].
private func stepOf(_ values: [Double], _ t: Int, batch: Int, steps: Int, features: Int) -> [Double] {
    var out: [Double] = []
    for n in 0..<batch {
        let start = (n * steps + t) * features
        out += values[start..<(start + features)]
    }
    return out
}

/// [T][B·H] stacked as row-major [B, T, H].
private func overTime(_ states: [[Double]], batch: Int, hidden: Int) -> [Double] {
    var out: [Double] = []
    for n in 0..<batch { for s in states { out += s[(n * hidden)..<((n + 1) * hidden)] } }
    return out
}

/// An RNN's states over a [B, T, I] sequence by hand, from `start` (zeros if nil).
private func rnnByHand(_ w: Weights, _ x: [Double], batch: Int, steps: Int, start: [Double]? = nil) -> [[Double]] {
    var h = start ?? [Double](repeating: 0, count: batch * w.hidden), states: [[Double]] = []
    for t in 0..<steps {
        h = w.rnnStep(x: stepOf(x, t, batch: batch, steps: steps, features: w.input), h: h, batch: batch)
        states.append(h)
    }
    return states
}

/// An LSTM's hidden states over a [B, T, I] sequence by hand, and the last cell state.
private func lstmByHand(_ w: Weights, _ x: [Double], batch: Int, steps: Int, h0: [Double]? = nil,
                        c0: [Double]? = nil) -> (states: [[Double]], c: [Double]) {
    var h = h0 ?? [Double](repeating: 0, count: batch * w.hidden), c = c0 ?? h.map { _ in 0 }, states: [[Double]] = []
    for t in 0..<steps {
        (h, c) = w.lstmStep(x: stepOf(x, t, batch: batch, steps: steps, features: w.input), h: h, c: c, batch: batch)
        states.append(h)
    }
    return (states, c)
}

/// The doubles of a tensor.
private func doubles(_ t: Tensor) -> [Double] { t.toArray().map(Double.init) }

// MARK: - 13.1 counting bigrams

@Suite struct Exercise_13_1 {
    @Test func textsOfDrawnSizes() {
        var g = SeededGenerator(seed: graded(13101))
        for alpha in [0, 0.5, 1, Double.random(in: 0.01...3, using: &g)] {
            let v = Int.random(in: 2...12, using: &g)
            let ids = drawnIds(Int.random(in: 2...300, using: &g), below: v, &g)
            let model = BigramModel(ids: ids, vocabularySize: v, smoothing: alpha)
            let (counts, probabilities) = bigramByHand(ids, v: v, alpha: alpha)
            #expect(model.counts == counts, "V = \(v), \(ids.count) ids: counts[a][b] is how often b follows a, every pair of neighbours; got \(model.counts.prefix(3))…, expected \(counts.prefix(3))…")
            let got = model.probabilities.flatMap { $0 }, expected = probabilities.flatMap { $0 }
            #expect(got.count == expected.count && zip(got, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-12 },
                    "V = \(v), α = \(alpha): P(b | a) = (count + α)/(row total + α·V), a row without any count all 0; got \(got.prefix(6))…, expected \(expected.prefix(6))…")
            observe("the counts of \(ids.count) ids below \(v)", model.counts.flatMap { $0 })
            observe("the probabilities with α = \(alpha)", got, atol: 1e-12, rtol: 1e-12)
        }
    }

    @Test func charactersThatNeverOccurAndATextOfOne() {
        var g = SeededGenerator(seed: graded(13102))
        let v = Int.random(in: 5...9, using: &g)
        let ids = (0..<Int.random(in: 20...60, using: &g)).map { _ in Int.random(in: 0...2, using: &g) }  // ids 3… never occur
        for alpha in [0, Double.random(in: 0.1...2, using: &g)] {
            let model = BigramModel(ids: ids, vocabularySize: v, smoothing: alpha)
            let expected = bigramByHand(ids, v: v, alpha: alpha).probabilities
            let unseen = model.probabilities[v - 1]
            #expect(unseen.allSatisfy { !$0.isNaN } && zip(model.probabilities.flatMap { $0 }, expected.flatMap { $0 }).allSatisfy { Swift.abs($0 - $1) <= 1e-12 },
                    "α = \(alpha), ids \(v - 1) never occurs: its row is \(alpha == 0 ? "all 0 (0/0 is no prediction, not NaN)" : "uniform, 1/V each"); got \(unseen)")
            observe("the probabilities of \(v) characters of which \(v - 3) never occur, α = \(alpha)", model.probabilities.flatMap { $0 }, atol: 1e-12, rtol: 1e-12)
        }
        let single = BigramModel(ids: [Int.random(in: 0..<v, using: &g)], vocabularySize: v)
        #expect(single.counts.flatMap { $0 }.allSatisfy { $0 == 0 } && single.probabilities.flatMap { $0 }.allSatisfy { Swift.abs($0 - 1 / Double(v)) < 1e-12 },
                "a text of one character has no pair: every count 0, every probability 1/V")
        observe("a text of one character: the counts", single.counts.flatMap { $0 })
        observe("and the probabilities", single.probabilities.flatMap { $0 }, atol: 1e-12, rtol: 1e-12)
    }
}

// MARK: - 13.2 the bigram loss

@Suite struct Exercise_13_2 {
    @Test func drawnTrainingAndValidationTexts() {
        var g = SeededGenerator(seed: graded(13201))
        for _ in 0..<3 {
            let v = Int.random(in: 2...15, using: &g)
            let alpha = [0.1, 0.5, 1, Double.random(in: 0.01...2, using: &g)].randomElement(using: &g)!
            let train = drawnIds(Int.random(in: 50...400, using: &g), below: v, &g)
            let validation = drawnIds(Int.random(in: 2...100, using: &g), below: v, &g)
            let model = BigramModel(ids: train, vocabularySize: v, smoothing: alpha)
            let expected = bigramLossByHand(bigramByHand(train, v: v, alpha: alpha).probabilities, validation)
            let got = model.loss(validation)
            #expect(Swift.abs(got - expected) <= 1e-9 * Swift.max(1, Swift.abs(expected)),
                    "V = \(v), α = \(alpha), \(validation.count) validation ids: the mean over the n − 1 predictions of −log P(next | current), in nats: expected \(expected), got \(got)")
            observe("the loss of \(validation.count) ids, V = \(v), α = \(alpha)", got, atol: 1e-9, rtol: 1e-9)
        }
    }

    @Test func twoCharactersNothingKnownAndAnUnseenPair() {
        var g = SeededGenerator(seed: graded(13202))
        let v = Int.random(in: 3...40, using: &g)
        let train = drawnIds(100, below: v, &g)
        let model = BigramModel(ids: train, vocabularySize: v)
        let (a, b) = (Int.random(in: 0..<v, using: &g), Int.random(in: 0..<v, using: &g))
        let two = model.loss([a, b])
        #expect(Swift.abs(two + Foundation.log(model.probabilities[a][b])) < 1e-12, "two characters: one prediction, −log P(\(b) | \(a)); got \(two)")
        let ignorant = BigramModel(ids: [0], vocabularySize: v).loss(drawnIds(30, below: v, &g))
        #expect(Swift.abs(ignorant - Foundation.log(Double(v))) < 1e-12, "a model that counted nothing scores log V = \(Foundation.log(Double(v))), got \(ignorant)")
        // α = 0: a pair never seen in training has probability 0, and the loss is +∞.
        let plain = BigramModel(ids: [0, 1, 0, 1], vocabularySize: v, smoothing: 0)
        let infinite = plain.loss([0, 1, 1])
        #expect(infinite == .infinity, "α = 0 and the pair 1 → 1 never seen: −log 0 = +∞, got \(infinite)")
        observe("the loss of two characters", two, atol: 1e-12, rtol: 1e-12)
        observe("the loss of a model that knows nothing, V = \(v)", ignorant, atol: 1e-12, rtol: 1e-12)
        observe("the loss with an unseen pair and α = 0", infinite)
    }
}

// MARK: - 13.3 embedding lookup

@Suite struct Exercise_13_3 {
    @Test func idsWithRepeats() {
        var g = SeededGenerator(seed: graded(13301))
        let (v, d) = (Int.random(in: 2...9, using: &g), Int.random(in: 1...6, using: &g))
        let (b, t) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...7, using: &g))
        let table = drawnTensor([v, d], &g, requiresGrad: true)
        let ids = drawnIds(b * t, below: v, &g)
        let out = table.embedding(ids, shape: [b, t])
        let rows = table.toArray()
        let expected = ids.flatMap { id in rows[(id * d)..<(id * d + d)].map(Double.init) }
        #expect(out.shape == [b, t, d] && near(out.toArray(), expected, atol: 0, rtol: 0),
                "ids \(ids) of shape [\(b), \(t)] in a table [\(v), \(d)]: shape [\(b), \(t), \(d)], row k is row ids[k]; got \(out.shape), \(worst(out.toArray(), expected))")
        observe("the lookup of \(ids.count) ids in a [\(v), \(d)] table", out)
        observe("its op", out.node?.op ?? "no node")
    }

    @Test func tablesThatAreViews() {
        var g = SeededGenerator(seed: graded(13302))
        let (v, d) = (Int.random(in: 2...6, using: &g), Int.random(in: 2...5, using: &g))
        // A transposed table: stored [d, v], viewed [v, d].
        let transposed = drawnTensor([d, v], &g).transposed()
        // Every other row of a longer table, and some columns of a wider one.
        let rowsOfLonger = drawnTensor([2 * v + 1, d], &g).sliced(axis: 0, from: 1, step: 2)
        let columnsOfWider = drawnTensor([v, d + 3], &g).sliced(axis: 1, from: 2, to: 2 + d)
        for (name, table) in [("a transposed table", transposed), ("every other row", rowsOfLonger), ("some columns", columnsOfWider)] {
            let ids = drawnIds(Int.random(in: 1...8, using: &g), below: table.shape[0], &g)
            let got = table.embedding(ids).toArray()
            let logical = table.contiguous().toArray()
            let w = table.shape[1]
            let expected = ids.flatMap { id in logical[(id * w)..<(id * w + w)].map(Double.init) }
            #expect(near(got, expected, atol: 0, rtol: 0),
                    "\(name) (shape \(table.shape), strides \(table.strides), offset \(table.offset)), ids \(ids): the rows of the view, read through contiguous(); \(worst(got, expected))")
            observe("the lookup in \(name)", got, shape: [ids.count, w])
        }
    }

    @Test func aBatchOfOneAndASequenceOfOne() {
        var g = SeededGenerator(seed: graded(13303))
        let (v, d) = (Int.random(in: 2...8, using: &g), Int.random(in: 1...4, using: &g))
        let layer = Embedding(v, d)
        noGrad { layer.weight.assign(drawnTensor([v, d], &g)) }
        let one = Float(Int.random(in: 0..<v, using: &g))
        let single = layer(Tensor([one], shape: [1, 1]))
        let t = Int.random(in: 2...6, using: &g)
        let row = drawnIds(t, below: v, &g)
        let sequence = layer(Tensor(row.map(Float.init), shape: [1, t]))
        let w = layer.weight.toArray()
        #expect(single.shape == [1, 1, d] && single.toArray() == Array(w[(Int(one) * d)..<(Int(one) * d + d)]),
                "one id of shape [1, 1]: [1, 1, \(d)], its row; got \(single.shape) \(single.toArray())")
        #expect(sequence.shape == [1, t, d] && sequence.toArray() == row.flatMap { Array(w[($0 * d)..<($0 * d + d)]) },
                "a batch of one sequence [1, \(t)]: [1, \(t), \(d)]; got \(sequence.shape)")
        observe("the lookup of a single id", single)
        observe("the lookup of a batch of one", sequence)
    }
}

// MARK: - 13.4 embedding backward

@Suite struct Exercise_13_4 {
    @Test func manyRepeatsOfFewIds() {
        var g = SeededGenerator(seed: graded(13401))
        let (v, d, n) = (Int.random(in: 3...5, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 20...60, using: &g))
        let ids = (0..<n).map { _ in Int.random(in: 0..<(v - 1), using: &g) }  // id v − 1 never occurs
        let table = drawnTensor([v, d], &g, requiresGrad: true)
        let upstream = drawnTensor([n, d], &g)
        (table.embedding(ids) * upstream).sum().backward()
        var expected = [Double](repeating: 0, count: v * d)
        let u = upstream.toArray()
        for (k, id) in ids.enumerated() { for j in 0..<d { expected[id * d + j] += Double(u[k * d + j]) } }
        let got = table.grad?.toArray() ?? []
        #expect(near(got, expected, atol: 1e-4, rtol: 1e-5),
                "\(n) uses of \(v - 1) ids: each row's gradient adds up every use (+=), the unused row stays 0; \(worst(got, expected))")
        observe("the table's gradient after \(n) uses of \(v - 1) ids", table.grad, atol: 1e-4, rtol: 1e-5)
    }

    @Test func aPermutedIncomingGradient() {
        var g = SeededGenerator(seed: graded(13402))
        let (b, t, d, v) = (Int.random(in: 2...3, using: &g), Int.random(in: 2...5, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 2...6, using: &g))
        let ids = drawnIds(b * t, below: v, &g)
        // The gradient arrives stored time-first [t, b, d] and viewed batch-first [b, t, d].
        let upstream = drawnTensor([t, b, d], &g).permuted([1, 0, 2])
        let direct = embeddingBackward(upstream, ids: ids, rows: v)
        let logical = upstream.contiguous().toArray()
        var expected = [Double](repeating: 0, count: v * d)
        for (k, id) in ids.enumerated() { for j in 0..<d { expected[id * d + j] += Double(logical[k * d + j]) } }
        #expect(direct.shape == [v, d] && near(direct.toArray(), expected, atol: 1e-5, rtol: 1e-5),
                "an incoming gradient [\(b), \(t), \(d)] that is a permuted view (strides \(upstream.strides)): read it through contiguous(); \(worst(direct.toArray(), expected))")
        // The same through autograd: the lookup times a permuted tensor.
        let table = drawnTensor([v, d], &g, requiresGrad: true)
        (table.embedding(ids, shape: [b, t]) * upstream).sum().backward()
        #expect(near(table.grad?.toArray() ?? [], expected, atol: 1e-5, rtol: 1e-5), "the same through backward(): \(worst(table.grad?.toArray() ?? [], expected))")
        observe("embeddingBackward of a permuted gradient", direct, atol: 1e-5, rtol: 1e-5)
        observe("the table's gradient through backward()", table.grad, atol: 1e-5, rtol: 1e-5)
    }

    @Test func theLayerInsideALoss() {
        var g = SeededGenerator(seed: graded(13403))
        let (v, d, b, t) = (Int.random(in: 3...8, using: &g), Int.random(in: 2...4, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 1...6, using: &g))
        let layer = Embedding(v, d)
        noGrad { layer.weight.assign(drawnTensor([v, d], &g)) }
        let ids = drawnIds(b * t, below: v, &g)
        let c = drawnTensor([b, t, d], &g)
        let e = layer(Tensor(ids.map(Float.init), shape: [b, t]))
        ((e * c).sum() + (e * e).sum()).backward()  // ∂/∂e = c + 2e
        let w = layer.weight.toArray(), cs = c.toArray()
        var expected = [Double](repeating: 0, count: v * d)
        for (k, id) in ids.enumerated() { for j in 0..<d { expected[id * d + j] += Double(cs[k * d + j]) + 2 * Double(w[id * d + j]) } }
        let got = layer.weight.grad?.toArray() ?? []
        #expect(near(got, expected, atol: 1e-4, rtol: 1e-5), "Embedding(\(v), \(d)) in Σ c·e + Σ e²: \(worst(got, expected))")
        observe("the gradient of an Embedding layer's weight", layer.weight.grad, atol: 1e-4, rtol: 1e-5)
    }
}

// MARK: - 13.5 one RNN step

@Suite struct Exercise_13_5 {
    @Test func drawnSizesWithAndWithoutBiases() {
        var g = SeededGenerator(seed: graded(13501))
        for bias in [true, false] {
            let (i, h, b) = (Int.random(in: 1...6, using: &g), Int.random(in: 1...6, using: &g), bias ? Int.random(in: 1...4, using: &g) : 1)
            let cell = RNNCell(i, h, bias: bias)
            drawWeights(cell, &g, scale: 0.6)
            let x = drawnTensor([b, i], &g), state = drawnTensor([b, h], &g, scale: 0.5)
            let got = cell.step(x, state)
            let expected = Weights(cell).rnnStep(x: doubles(x), h: doubles(state), batch: b)
            #expect(got.shape == [b, h] && near(got.toArray(), expected),
                    "RNNCell(\(i), \(h), bias: \(bias)) on a batch of \(b): tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh); \(worst(got.toArray(), expected))")
            observe("one step of RNNCell(\(i), \(h), bias: \(bias))", got, atol: 1e-5, rtol: 1e-4)
        }
    }

    @Test func transposedInputs() {
        var g = SeededGenerator(seed: graded(13502))
        let (i, h, b) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g), Int.random(in: 2...4, using: &g))
        let cell = RNNCell(i, h)
        drawWeights(cell, &g, scale: 0.6)
        let x = drawnTensor([i, b], &g).transposed(), state = drawnTensor([h, b], &g, scale: 0.5).transposed()
        let got = cell.step(x, state)
        let expected = Weights(cell).rnnStep(x: doubles(x.contiguous()), h: doubles(state.contiguous()), batch: b)
        #expect(near(got.toArray(), expected), "x and h as transposed views (strides \(x.strides), \(state.strides)): \(worst(got.toArray(), expected))")
        observe("one step of transposed inputs", got, atol: 1e-5, rtol: 1e-4)
    }

    @Test func gradientsByHand() {
        var g = SeededGenerator(seed: graded(13503))
        let (i, h, b) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 1...3, using: &g))
        let cell = RNNCell(i, h)
        drawWeights(cell, &g, scale: 0.6)
        let x = drawnTensor([b, i], &g, requiresGrad: true), state = drawnTensor([b, h], &g, scale: 0.5, requiresGrad: true)
        let w = drawnTensor([b, h], &g)
        let out = cell.step(x, state)
        (out * w).sum().backward()
        // By hand: da = w·(1 − h'²); dx = da·W_ih; dh = da·W_hh; dW_ih = daᵀx; dW_hh = daᵀh; db = Σ da.
        let weights = Weights(cell), hNext = weights.rnnStep(x: doubles(x), h: doubles(state), batch: b)
        let da = zip(doubles(w), hNext).map { $0 * (1 - $1 * $1) }
        let (xs, hs) = (doubles(x), doubles(state))
        var dx = [Double](repeating: 0, count: b * i), dh = [Double](repeating: 0, count: b * h)
        var dwih = [Double](repeating: 0, count: h * i), dwhh = [Double](repeating: 0, count: h * h), db = [Double](repeating: 0, count: h)
        for n in 0..<b {
            for r in 0..<h {
                let a = da[n * h + r]
                db[r] += a
                for k in 0..<i { dx[n * i + k] += a * weights.wih[r * i + k]; dwih[r * i + k] += a * xs[n * i + k] }
                for k in 0..<h { dh[n * h + k] += a * weights.whh[r * h + k]; dwhh[r * h + k] += a * hs[n * h + k] }
            }
        }
        for (name, tensor, expected) in [("x", x, dx), ("h", state, dh), ("W_ih", cell.weightIH, dwih), ("W_hh", cell.weightHH, dwhh),
                                         ("b_ih", cell.biasIH!, db), ("b_hh", cell.biasHH!, db)] {
            let got = tensor.grad?.toArray() ?? []
            #expect(near(got, expected, atol: 1e-5, rtol: 1e-4), "the gradient of \(name) through one step: \(worst(got, expected))")
            observe("\(name).grad through one RNN step", tensor.grad, atol: 1e-5, rtol: 1e-4)
        }
    }
}

// MARK: - 13.6 unrolling through time

@Suite struct Exercise_13_6 {
    @Test func drawnSequencesAndStates() {
        var g = SeededGenerator(seed: graded(13601))
        for given in [false, true] {
            let (b, t, i, h) = (Int.random(in: 1...3, using: &g), Int.random(in: 2...8, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 1...5, using: &g))
            let rnn = RNN(i, h)
            drawWeights(rnn, &g, scale: 0.7)
            let x = drawnTensor([b, t, i], &g)
            let start = given ? drawnTensor([b, h], &g, scale: 0.5) : nil
            let (output, last) = rnn.run(x, start)
            let states = rnnByHand(Weights(rnn.cell), doubles(x), batch: b, steps: t, start: start.map(doubles))
            let expected = overTime(states, batch: b, hidden: h)
            #expect(output.shape == [b, t, h] && near(output.toArray(), expected) && near(last.toArray(), states[t - 1]),
                    "RNN(\(i), \(h)) over [\(b), \(t), \(i)]\(given ? " from a given state" : ""): outputs [B, T, H], each the state after its step; got \(output.shape), \(worst(output.toArray(), expected))")
            observe("the outputs of RNN(\(i), \(h)) over [\(b), \(t), \(i)]", output, atol: 1e-5, rtol: 1e-4)
            observe("its last state", last, atol: 1e-5, rtol: 1e-4)
        }
    }

    @Test func aSequenceOfOneAndABatchOfOne() {
        var g = SeededGenerator(seed: graded(13602))
        let (i, h) = (Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g))
        let rnn = RNN(i, h)
        drawWeights(rnn, &g, scale: 0.7)
        for (b, t) in [(Int.random(in: 1...3, using: &g), 1), (1, Int.random(in: 2...6, using: &g))] {
            let x = drawnTensor([b, t, i], &g)
            let (output, last) = rnn.run(x)
            let states = rnnByHand(Weights(rnn.cell), doubles(x), batch: b, steps: t)
            #expect(output.shape == [b, t, h] && near(output.toArray(), overTime(states, batch: b, hidden: h)) && near(last.toArray(), states[t - 1]),
                    "RNN(\(i), \(h)) over [\(b), \(t), \(i)]: got \(output.shape) \(output.toArray())")
            observe("the outputs over [\(b), \(t), \(i)]", output, atol: 1e-5, rtol: 1e-4)
            observe("the last state over [\(b), \(t), \(i)]", last, atol: 1e-5, rtol: 1e-4)
        }
    }

    @Test func sequencesThatAreViews() {
        var g = SeededGenerator(seed: graded(13603))
        let (b, t, i, h) = (Int.random(in: 2...3, using: &g), Int.random(in: 2...6, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g))
        let rnn = RNN(i, h)
        drawWeights(rnn, &g, scale: 0.7)
        // Stored time-first [T, B, I], viewed batch-first; and every other step of a longer sequence.
        let timeFirst = drawnTensor([t, b, i], &g).permuted([1, 0, 2])
        let everyOther = drawnTensor([b, 2 * t, i], &g).sliced(axis: 1, from: 1, step: 2)
        for (name, x) in [("stored time-first", timeFirst), ("every other step", everyOther)] {
            let output = rnn(x)
            let expected = overTime(rnnByHand(Weights(rnn.cell), doubles(x.contiguous()), batch: b, steps: t), batch: b, hidden: h)
            #expect(near(output.toArray(), expected), "a sequence \(name) (strides \(x.strides)): \(worst(output.toArray(), expected))")
            observe("the outputs of a sequence \(name)", output, atol: 1e-5, rtol: 1e-4)
        }
    }

    @Test func aPaddedBatch() {
        // Two sequences of different lengths in one batch: the short one padded with zeros at the
        // end. Its states up to its own length are the states it has alone; its last real state
        // is output[:, length − 1].
        var g = SeededGenerator(seed: graded(13604))
        let (t, i, h) = (Int.random(in: 4...8, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g))
        let length = Int.random(in: 1..<t, using: &g)
        let rnn = RNN(i, h)
        drawWeights(rnn, &g, scale: 0.7)
        let long = drawn(t * i, &g), short = drawn(length * i, &g)
        let padded = Tensor(long + short + [Float](repeating: 0, count: (t - length) * i), shape: [2, t, i])
        let output = rnn(padded)
        let alone = rnn(Tensor(short, shape: [1, length, i]))
        let real = output.selected(axis: 0, index: 1).sliced(axis: 0, from: 0, to: length)
        let expected = overTime(rnnByHand(Weights(rnn.cell), short.map(Double.init), batch: 1, steps: length), batch: 1, hidden: h)
        #expect(near(real.contiguous().toArray(), expected) && near(alone.toArray(), expected),
                "a sequence of \(length) padded to \(t): its first \(length) states are the states it has alone; \(worst(real.contiguous().toArray(), expected))")
        observe("the states of the padded sequence up to its length", real, atol: 1e-5, rtol: 1e-4)
        observe("its last real state", output.selected(axis: 0, index: 1).selected(axis: 0, index: length - 1), atol: 1e-5, rtol: 1e-4)
    }

    @Test func theGradientThroughFiftySteps() {
        var g = SeededGenerator(seed: graded(13605))
        let (t, i, h) = (50, Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g))
        let rnn = RNN(i, h)
        drawWeights(rnn, &g, scale: 0.6)
        let x = drawnTensor([1, t, i], &g, requiresGrad: true), start = drawnTensor([1, h], &g, scale: 0.5, requiresGrad: true)
        let w = drawnTensor([1, h], &g)
        (rnn.run(x, start).h * w).sum().backward()
        // Backpropagation through time by hand.
        let weights = Weights(rnn.cell), xs = doubles(x)
        let states = rnnByHand(weights, xs, batch: 1, steps: t, start: doubles(start))
        var dh = doubles(w), dx = [Double](repeating: 0, count: t * i), dwhh = [Double](repeating: 0, count: h * h)
        for step in stride(from: t - 1, through: 0, by: -1) {
            let da = zip(dh, states[step]).map { $0 * (1 - $1 * $1) }
            let previous = step == 0 ? doubles(start) : states[step - 1]
            var next = [Double](repeating: 0, count: h)
            for r in 0..<h {
                for k in 0..<i { dx[step * i + k] += da[r] * weights.wih[r * i + k] }
                for k in 0..<h { next[k] += da[r] * weights.whh[r * h + k]; dwhh[r * h + k] += da[r] * previous[k] }
            }
            dh = next
        }
        let gotX = x.grad?.toArray() ?? [], gotW = rnn.cell.weightHH.grad?.toArray() ?? [], gotStart = start.grad?.toArray() ?? []
        let (tx, tw, ts) = (1e-4 * largest(dx) + 1e-9, 1e-4 * largest(dwhh) + 1e-9, 1e-4 * largest(dh) + 1e-9)
        #expect(near(gotX, dx, atol: tx, rtol: 1e-3) && near(gotW, dwhh, atol: tw, rtol: 1e-3) && near(gotStart, dh, atol: ts, rtol: 1e-3),
                "the last state's gradient through 50 steps, against backpropagation through time by hand: x.grad \(worst(gotX, dx)); W_hh.grad \(worst(gotW, dwhh)); the first state's \(worst(gotStart, dh))")
        observe("x.grad at steps 0, 1 and 49", Array(gotX.prefix(2 * i)) + Array(gotX.suffix(i)),
                atol: Float(tx), rtol: 1e-3)
        observe("W_hh.grad through 50 steps", gotW, atol: Float(tw), rtol: 1e-3)
        observe("the first state's gradient", gotStart, atol: Float(ts), rtol: 1e-3)
    }
}

// MARK: - 13.7 the LSTM's gates

@Suite struct Exercise_13_7 {
    @Test func aStepByHand() {
        var g = SeededGenerator(seed: graded(13701))
        let (i, h, b) = (Int.random(in: 1...5, using: &g), Int.random(in: 1...5, using: &g), Int.random(in: 1...3, using: &g))
        let cell = LSTMCell(i, h, bias: Bool.random(using: &g))
        drawWeights(cell, &g, scale: 0.7)
        let x = drawnTensor([b, i], &g), state = LSTMState(h: drawnTensor([b, h], &g, scale: 0.5), c: drawnTensor([b, h], &g))
        let next = cell.step(x, state)
        let expected = Weights(cell).lstmStep(x: doubles(x), h: doubles(state.h), c: doubles(state.c), batch: b)
        #expect(near(next.c.toArray(), expected.c) && near(next.h.toArray(), expected.h),
                "LSTMCell(\(i), \(h)), gates i, f, g, o: c' = f·c + i·g \(worst(next.c.toArray(), expected.c)); h' = o·tanh(c') \(worst(next.h.toArray(), expected.h))")
        observe("h' of one LSTM step", next.h, atol: 1e-5, rtol: 1e-4)
        observe("c' of one LSTM step", next.c, atol: 1e-5, rtol: 1e-4)
    }

    @Test func sequencesByHand() {
        var g = SeededGenerator(seed: graded(13702))
        for t in [1, Int.random(in: 2...7, using: &g)] {
            let (b, i, h) = (Int.random(in: 1...3, using: &g), Int.random(in: 1...4, using: &g), Int.random(in: 1...4, using: &g))
            let lstm = LSTM(i, h)
            drawWeights(lstm, &g, scale: 0.6)
            let x = drawnTensor([b, t, i], &g)
            let start = LSTMState(h: drawnTensor([b, h], &g, scale: 0.5), c: drawnTensor([b, h], &g))
            let (output, state) = lstm.run(x, start)
            let (states, c) = lstmByHand(Weights(lstm.cell), doubles(x), batch: b, steps: t, h0: doubles(start.h), c0: doubles(start.c))
            let expected = overTime(states, batch: b, hidden: h)
            #expect(output.shape == [b, t, h] && near(output.toArray(), expected) && near(state.c.toArray(), c),
                    "LSTM(\(i), \(h)) over [\(b), \(t), \(i)] from a given state: \(worst(output.toArray(), expected)); the last c \(worst(state.c.toArray(), c))")
            observe("the outputs of LSTM(\(i), \(h)) over [\(b), \(t), \(i)]", output, atol: 1e-5, rtol: 1e-4)
            observe("the last h", state.h, atol: 1e-5, rtol: 1e-4)
            observe("the last c", state.c, atol: 1e-5, rtol: 1e-4)
        }
    }

    @Test func aStridedSequenceAndABatchOfOne() {
        var g = SeededGenerator(seed: graded(13703))
        let (t, i, h) = (Int.random(in: 2...5, using: &g), Int.random(in: 1...3, using: &g), Int.random(in: 2...4, using: &g))
        let lstm = LSTM(i, h)
        drawWeights(lstm, &g, scale: 0.6)
        let x = drawnTensor([1, 2 * t, i], &g).sliced(axis: 1, from: 0, step: 2)  // every other step
        let output = lstm(x)
        let expected = overTime(lstmByHand(Weights(lstm.cell), doubles(x.contiguous()), batch: 1, steps: t).states, batch: 1, hidden: h)
        #expect(near(output.toArray(), expected), "every other step of a sequence (strides \(x.strides)), a batch of one: \(worst(output.toArray(), expected))")
        observe("the outputs over every other step", output, atol: 1e-5, rtol: 1e-4)
    }

    @Test func theGradientThroughFiftySteps() {
        var g = SeededGenerator(seed: graded(13704))
        let (t, i, h) = (50, 2, 3)
        let lstm = LSTM(i, h)
        drawWeights(lstm, &g, scale: 0.5)
        // The forget gate starts open (its bias + 2), so the gradient survives 50 steps.
        noGrad {
            let b = lstm.cell.biasHH!.toArray().enumerated().map { $0.offset / h == 1 ? $0.element + 2 : $0.element }
            lstm.cell.biasHH!.assign(Tensor(b))
        }
        let x = drawnTensor([1, t, i], &g, requiresGrad: true)
        let w = drawn(h, &g).map(Double.init)
        (lstm.run(x).state.h * Tensor(w.map(Float.init), shape: [1, h])).sum().backward()
        // Finite differences of the same function, by hand in Double.
        let weights = Weights(lstm.cell), xs = doubles(x)
        func loss(_ x: [Double], _ weights: Weights) -> Double {
            let last = lstmByHand(weights, x, batch: 1, steps: t).states[t - 1]
            return zip(last, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let e = 1e-6
        let positions = [0, 1, 25 * i, 25 * i + 1, (t - 1) * i, (t - 1) * i + 1]
        let dx = positions.map { p -> Double in
            var up = xs, down = xs
            up[p] += e
            down[p] -= e
            return (loss(up, weights) - loss(down, weights)) / (2 * e)
        }
        let dwhh = (0..<(4 * h * h)).map { p -> Double in
            var up = weights, down = weights
            up.whh[p] += e
            down.whh[p] -= e
            return (loss(xs, up) - loss(xs, down)) / (2 * e)
        }
        let allX = x.grad?.toArray() ?? []
        let gotX = allX.count == t * i ? positions.map { allX[$0] } : []
        let gotW = lstm.cell.weightHH.grad?.toArray() ?? []
        let (tx, tw) = (1e-4 * largest(dx) + 1e-7, 1e-4 * largest(dwhh) + 1e-7)
        #expect(near(gotX, dx, atol: tx, rtol: 2e-3) && near(gotW, dwhh, atol: tw, rtol: 2e-3),
                "the last h's gradient through 50 LSTM steps, against finite differences: x.grad at steps 0, 25, 49 \(worst(gotX, dx)); W_hh.grad \(worst(gotW, dwhh))")
        observe("x.grad at steps 0, 25 and 49", gotX, atol: Float(tx), rtol: 2e-3)
        observe("W_hh.grad through 50 steps", gotW, atol: Float(tw), rtol: 2e-3)
    }
}

// MARK: - 13.8 clipping

@Suite struct Exercise_13_8 {
    /// Drawn parameters, parameter 1 (and maybe others) without a gradient, and their gradients as
    /// Doubles (nil when absent).
    private static func drawnParameters(_ g: inout SeededGenerator) -> ([Tensor], [[Double]?]) {
        var parameters: [Tensor] = [], grads: [[Double]?] = []
        for k in 0..<Int.random(in: 2...5, using: &g) {
            let shape = (0..<Int.random(in: 1...3, using: &g)).map { _ in Int.random(in: 1...4, using: &g) }
            let p = drawnTensor(shape, &g, requiresGrad: true)
            if k == 1 || (k > 1 && Int.random(in: 0..<4, using: &g) == 0) {  // parameter 0 always has one
                grads.append(nil)
            } else {
                let grad = drawnTensor(shape, &g, scale: Float.random(in: 0.5...4, using: &g))
                p.grad = grad
                grads.append(doubles(grad))
            }
            parameters.append(p)
        }
        return (parameters, grads)
    }

    @Test func drawnGradientsSomeMissing() {
        var g = SeededGenerator(seed: graded(13801))
        let (parameters, grads) = Self.drawnParameters(&g)
        let norm = grads.compactMap { $0 }.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let maxNorm = Float(norm) * Float.random(in: 0.05...0.8, using: &g)
        let got = clipGradNorm(parameters, maxNorm: maxNorm)
        let scale = Double(maxNorm) / (norm + 1e-6)
        #expect(Swift.abs(Double(got) - norm) <= 1e-5 * norm, "the global norm before clipping: expected \(norm), got \(got)")
        for (k, (p, grad)) in zip(parameters, grads).enumerated() {
            if let grad {
                let expected = grad.map { $0 * scale }
                #expect(near(p.grad?.toArray() ?? [], expected, atol: 1e-6, rtol: 1e-5),
                        "parameter \(k) \(p.shape): its gradient times maxNorm/(norm + 1e-6) = \(scale); \(worst(p.grad?.toArray() ?? [], expected))")
            } else {
                #expect(p.grad == nil, "parameter \(k) had no gradient and must keep none: parameters without a gradient are skipped")
            }
            observe("parameter \(k)'s gradient after clipping", p.grad, atol: 1e-6, rtol: 1e-5)
        }
        observe("the norm before clipping", got, atol: 0, rtol: 1e-5)
    }

    @Test func withinTheBoundAndNoGradientAtAll() {
        var g = SeededGenerator(seed: graded(13802))
        let (parameters, grads) = Self.drawnParameters(&g)
        let norm = grads.compactMap { $0 }.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let before = parameters.map { $0.grad?.toArray() }
        let got = clipGradNorm(parameters, maxNorm: Float(norm) * Float.random(in: 1.01...3, using: &g))
        #expect(zip(parameters, before).allSatisfy { $0.grad?.toArray() == $1 }, "a gradient within maxNorm is left as it is: clipping only scales down")
        #expect(Swift.abs(Double(got) - norm) <= 1e-5 * norm, "the norm: expected \(norm), got \(got)")
        let frozen = [drawnTensor([2, 3], &g, requiresGrad: true), drawnTensor([4], &g, requiresGrad: true)]
        let none = clipGradNorm(frozen, maxNorm: 1)
        #expect(none == 0 && frozen.allSatisfy { $0.grad == nil }, "no gradient at all: the norm is 0 and nothing changes, got \(none)")
        observe("the norm of gradients within the bound", got, atol: 0, rtol: 1e-5)
        observe("the gradients within the bound", parameters.flatMap { $0.grad?.toArray() ?? [] }, atol: 0, rtol: 0)
        observe("the norm when no parameter has a gradient", none)
    }

    @Test func aTransposedGradient() {
        var g = SeededGenerator(seed: graded(13803))
        let (r, c) = (Int.random(in: 2...5, using: &g), Int.random(in: 2...5, using: &g))
        let p = drawnTensor([r, c], &g, requiresGrad: true)
        let grad = drawnTensor([c, r], &g, scale: 3).transposed()  // [r, c], not contiguous
        p.grad = grad
        let values = doubles(grad.contiguous())
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let maxNorm = Float(norm) / 2
        let got = clipGradNorm([p], maxNorm: maxNorm)
        let expected = values.map { $0 * Double(maxNorm) / (norm + 1e-6) }
        #expect(Swift.abs(Double(got) - norm) <= 1e-5 * norm && p.grad?.shape == [r, c] && near(p.grad?.toArray() ?? [], expected, atol: 1e-6, rtol: 1e-5),
                "a gradient that is a transposed view [\(r), \(c)]: norm \(norm), got \(got); \(worst(p.grad?.toArray() ?? [], expected))")
        observe("a transposed gradient after clipping", p.grad, atol: 1e-6, rtol: 1e-5)
        observe("its norm", got, atol: 0, rtol: 1e-5)
    }

    @Test func theExplodingRNN() {
        var g = SeededGenerator(seed: graded(13804))
        let rnn = RNN(3, 8)
        drawWeights(rnn, &g, scale: 1.5)  // large weights: a large gradient over 30 steps
        rnn(drawnTensor([2, 30, 3], &g)).selected(axis: 1, index: 29).sum().backward()
        let before = rnn.parameters().map { doubles($0.grad!) }
        let norm = before.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let maxNorm = Float(norm) * Float.random(in: 0.1...0.5, using: &g)
        let got = clipGradNorm(rnn.parameters(), maxNorm: maxNorm)
        let after = rnn.parameters().flatMap { $0.grad?.toArray() ?? [] }
        let expected = before.flatMap { $0 }.map { $0 * Double(maxNorm) / (norm + 1e-6) }
        let clippedNorm = after.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(Swift.abs(Double(got) - norm) <= 1e-4 * norm && near(after, expected, atol: 1e-6, rtol: 1e-4),
                "an RNN's exploding gradient (norm \(norm)) clipped to \(maxNorm): every gradient scaled by the same factor; got norm \(got), \(worst(after, expected))")
        #expect(Swift.abs(clippedNorm - Double(maxNorm)) < 1e-3 * Double(maxNorm), "after clipping the global norm is maxNorm = \(maxNorm), got \(clippedNorm)")
        observe("the exploding norm", got, atol: 0, rtol: 1e-4)
        observe("the clipped gradients", after, atol: 1e-6, rtol: 1e-4)
    }
}
