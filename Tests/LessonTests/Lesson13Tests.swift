import Foundation
import Testing
import Kindling

// Lesson 13 — sequences (Lessons/13-sequences.md).
//
//     swift run course                       the next exercise to do, its tests, hints
//     swift test --filter Lesson13           all of lesson 13
//     swift test --filter Exercise_13_5      one exercise
//
// The suites run in order, one exercise after another. An exercise that is not
// written yet stops the run with "Exercise 13.x is not done yet" — that is the
// next one to do. Each exercise's tests use only that exercise and earlier ones
// (and the finished lessons before this one): 13.3's look rows up without
// calling backward(), 13.5's take one step of a cell, 13.6's run the RNN over
// whole sequences, and only 13.8's clip gradients.

private func close(_ a: [Float], _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= atol + rtol * Swift.abs($1) }
}

private func near(_ a: [Float], _ b: [Double], atol: Double = 1e-5, rtol: Double = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs(Double($0) - $1) <= atol + rtol * Swift.abs($1) }
}

/// Equal within 1e-12 everywhere.
private func same(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-12 }
}

private func sameRows(_ a: [[Double]], _ b: [[Double]]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
}

/// Each row of `counts` as (count + α)/(row total + `added`).
private func smoothedRows(_ counts: [[Int]], alpha: Double, added: Double) -> [[Double]] {
    counts.map { row -> [Double] in
        let total = Double(row.reduce(0, +)) + added
        return row.map { (Double($0) + alpha) / total }
    }
}

/// The first values, for messages.
private func head(_ v: [Float]) -> String { "\(Array(v.prefix(6)))\(v.count > 6 ? "…" : "")" }
private func head(_ v: [Double]) -> String { "\(v.prefix(6).map { Float($0) })\(v.count > 6 ? "…" : "")" }

/// Numbers from a private generator: `scale`·N(0, 1) + `shift`.
private func normals(_ shape: [Int], seed: UInt64, scale: Float = 1, shift: Float = 0, requiresGrad: Bool = false) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor((0..<elementCount(shape)).map { _ in g.nextNormal() * scale + shift }, shape: shape, requiresGrad: requiresGrad)
}

// MARK: By hand, in Double: the recurrent cells

/// A cell's parameters as Doubles.
private struct CellWeights {
    let wih: [Double], whh: [Double], bih: [Double]?, bhh: [Double]?
    let input: Int, hidden: Int

    init(_ cell: RecurrentCell) {
        wih = cell.weightIH.toArray().map(Double.init)
        whh = cell.weightHH.toArray().map(Double.init)
        bih = cell.biasIH?.toArray().map(Double.init)
        bhh = cell.biasHH?.toArray().map(Double.init)
        input = cell.inputSize
        hidden = cell.hiddenSize
    }

    /// x·W_ihᵀ (+ b_ih) (+ h·W_hhᵀ + b_hh) for a batch: [B, gates·H].
    func preactivations(x: [Double], h: [Double], batch: Int, state: Bool = true, biases: Bool = true) -> [Double] {
        let rows = wih.count / input
        var out = [Double](repeating: 0, count: batch * rows)
        for n in 0..<batch {
            for r in 0..<rows {
                var s = biases ? (bih?[r] ?? 0) : 0
                for k in 0..<input { s += x[n * input + k] * wih[r * input + k] }
                if state {
                    s += biases ? (bhh?[r] ?? 0) : 0
                    for k in 0..<hidden { s += h[n * hidden + k] * whh[r * hidden + k] }
                }
                out[n * rows + r] = s
            }
        }
        return out
    }
}

/// How an RNN step squashes its sum.
private enum Squash { case tanh, relu, none }

/// One Elman step by hand: squash(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), or a mistaken variant.
private func rnnStep(_ w: CellWeights, x: [Double], h: [Double], batch: Int, squash: Squash = .tanh,
                     state: Bool = true, biases: Bool = true) -> [Double] {
    w.preactivations(x: x, h: h, batch: batch, state: state, biases: biases).map {
        switch squash {
        case .tanh: return Foundation.tanh($0)
        case .relu: return Swift.max($0, 0)
        case .none: return $0
        }
    }
}

/// Mistakes in the LSTM's gate arithmetic, to recognise them.
private enum LSTMSlip { case none, inputForgetSwapped, sigmoidCandidate, noTanhOnOutput, oldCellInOutput, squashedCell }

private func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

/// One LSTM step by hand, in PyTorch's gate order i, f, g, o (or a mistaken variant).
private func lstmStep(_ w: CellWeights, x: [Double], h: [Double], c: [Double], batch: Int,
                      slip: LSTMSlip = .none) -> (h: [Double], c: [Double]) {
    let pre = w.preactivations(x: x, h: h, batch: batch)
    let hidden = w.hidden
    var hNext = [Double](repeating: 0, count: batch * hidden), cNext = hNext
    for n in 0..<batch {
        for j in 0..<hidden {
            func gate(_ k: Int) -> Double { pre[n * 4 * hidden + k * hidden + j] }
            var (i, f) = (sigmoid(gate(0)), sigmoid(gate(1)))
            if slip == .inputForgetSwapped { (i, f) = (f, i) }
            let g = slip == .sigmoidCandidate ? sigmoid(gate(2)) : Foundation.tanh(gate(2))
            let o = sigmoid(gate(3))
            let old = c[n * hidden + j]
            var cell = f * old + i * g
            if slip == .squashedCell { cell = Foundation.tanh(cell) }
            cNext[n * hidden + j] = cell
            switch slip {
            case .noTanhOnOutput: hNext[n * hidden + j] = o * cell
            case .oldCellInOutput: hNext[n * hidden + j] = o * Foundation.tanh(old)
            default: hNext[n * hidden + j] = o * Foundation.tanh(cell)
            }
        }
    }
    return (hNext, cNext)
}

/// Gives every parameter of `cell` values scale·N(0, 1) from a private generator.
private func drawWeights(_ cell: Module, seed: UInt64, scale: Float = 0.5) {
    var g = SeededGenerator(seed: seed)
    noGrad {
        for p in cell.parameters() {
            p.assign(Tensor((0..<p.count).map { _ in g.nextNormal() * scale }, shape: p.shape))
        }
    }
}

/// Step t of a [B, T, F] array, as [B, F].
private func step(_ values: [Double], _ t: Int, batch: Int, steps: Int, features: Int) -> [Double] {
    var out: [Double] = []
    for n in 0..<batch {
        let start = (n * steps + t) * features
        out += values[start..<(start + features)]
    }
    return out
}

/// [T][B, H] stacked as [B, T, H].
private func stackedOverTime(_ states: [[Double]], batch: Int, hidden: Int) -> [Double] {
    (0..<batch).flatMap { n in states.flatMap { $0[(n * hidden)..<((n + 1) * hidden)] } }
}

/// Whether a directory `TextCorpus.words` can read exists.
private let wordsAreInstalled = FileManager.default.fileExists(atPath: TextCorpus.wordsFile)

@Suite("Lesson13", .serialized) struct Lesson13 {

    // MARK: 13.1 — counting bigrams

    @Suite("13.1 bigram counts and probabilities") struct Exercise_13_1 {
        // ids 0 1 1 2 0 1: the pairs 0→1, 1→1, 1→2, 2→0, 0→1.
        static let ids = [0, 1, 1, 2, 0, 1]
        static let counts = [[0, 2, 0], [0, 1, 1], [1, 0, 0]]

        @Test func everyPairOfNeighboursIsCounted() {
            let model = BigramModel(ids: Self.ids, vocabularySize: 3)
            var hint = ""
            if model.counts == [[0, 0, 1], [2, 1, 0], [0, 1, 0]] {
                hint = " — counts[a][b] counts b following a: the row is the current character, the column the next"
            } else if model.counts == [[0, 1, 0], [0, 1, 1], [1, 0, 0]] {
                hint = " — the last pair (0 → 1) is missing: a text of n characters has n − 1 pairs, and every one counts"
            }
            #expect(model.counts == Self.counts,
                    "the ids \(Self.ids) hold the pairs 0→1, 1→1, 1→2, 2→0, 0→1: expected counts \(Self.counts), got \(model.counts)\(hint)")
        }

        @Test func eachRowIsSmoothedIntoProbabilities() {
            let model = BigramModel(ids: Self.ids, vocabularySize: 3, smoothing: 0.5)
            let expected = smoothedRows(Self.counts, alpha: 0.5, added: 0.5 * 3)
            var hint = ""
            if sameRows(model.probabilities, smoothedRows(Self.counts, alpha: 0, added: 0)) {
                hint = " — a pair never seen must keep a small probability: add α to every count"
            } else if sameRows(model.probabilities, smoothedRows(Self.counts, alpha: 0.5, added: 0.5)) {
                hint = " — add α to each of the V counts of the row, so its total grows by α·V (each row must add up to 1)"
            }
            #expect(sameRows(model.probabilities, expected),
                    "α = 0.5: P(b | a) = (count(a → b) + α)/(count(a → ·) + α·V), expected \(expected), got \(model.probabilities)\(hint)")
            for (a, row) in model.probabilities.enumerated() {
                #expect(Swift.abs(row.reduce(0, +) - 1) < 1e-12, "row \(a) of the probabilities adds up to \(row.reduce(0, +)), not 1")
            }
            #expect(model.probability(of: 1, after: 0) == model.probabilities[0][1], "probability(of: b, after: a) reads probabilities[a][b]")
        }

        @Test func aCharacterNeverFollowedByAnything() {
            // Character 2 never appears: with α = 1 its row is uniform, with α = 0 it has no prediction at all.
            let smoothed = BigramModel(ids: [0, 1, 0, 1], vocabularySize: 3)
            #expect(same(smoothed.probabilities[2], [1.0 / 3, 1.0 / 3, 1.0 / 3]),
                    "with α = 1, a character never seen predicts every character equally: expected [1/3, 1/3, 1/3], got \(smoothed.probabilities[2])")
            let plain = BigramModel(ids: [0, 1, 0, 1], vocabularySize: 3, smoothing: 0)
            #expect(plain.probabilities[0] == [0, 1, 0], "with α = 0, the probabilities are the counts' shares: after 0 always 1, got \(plain.probabilities[0])")
            let unseen = plain.probabilities[2]
            #expect(unseen == [0, 0, 0],
                    "with α = 0 the row of a character never seen has no count at all: expected [0, 0, 0], got \(unseen)\(unseen.contains { $0.isNaN } ? " — that is 0/0: leave such a row 0, not NaN" : "")")
        }
    }

    // MARK: 13.2 — the bigram loss

    @Suite("13.2 the bigram loss") struct Exercise_13_2 {
        @Test func theMeanNegativeLogLikelihoodInNats() {
            let model = BigramModel(ids: [0, 1, 1, 2, 0, 1], vocabularySize: 3, smoothing: 0.5)
            let p = model.probabilities
            let text = [0, 1, 2, 0]  // three predictions: 0→1, 1→2, 2→0
            let sum = -(Foundation.log(p[0][1]) + Foundation.log(p[1][2]) + Foundation.log(p[2][0]))
            let expected = sum / 3
            let got = model.loss(text)
            var hint = ""
            if Swift.abs(got - expected / Foundation.log(2.0)) < 1e-9 {
                hint = " — the loss is in nats: the natural logarithm log, not log2"
            } else if Swift.abs(got - sum / 4) < 1e-9 {
                hint = " — 4 characters make ids.count − 1 = 3 predictions (the first has no predecessor): divide by 3, not 4"
            } else if Swift.abs(got - sum) < 1e-9 {
                hint = " — that is the sum: the loss is the mean over the predictions"
            } else if Swift.abs(got + (Foundation.log(p[1][0]) + Foundation.log(p[2][1]) + Foundation.log(p[0][2])) / 3) < 1e-9 {
                hint = " — P(next | current) is probabilities[current][next]"
            }
            #expect(Swift.abs(got - expected) < 1e-9,
                    "loss([0, 1, 2, 0]) = −(log P(1|0) + log P(2|1) + log P(0|2))/3 = \(expected), got \(got)\(hint)")
        }

        @Test func knowingNothingCostsLogV() {
            // No pair counted: every row is uniform, every prediction costs log 5 nats.
            let model = BigramModel(ids: [3], vocabularySize: 5)
            let got = model.loss([0, 4, 2, 2, 1])
            #expect(Swift.abs(got - Foundation.log(5.0)) < 1e-12,
                    "a model that predicts 5 characters equally costs log 5 = \(Foundation.log(5.0)) nats a character, got \(got)")
        }

        @Test func aTextItPredictsWell() {
            // Trained on 100 characters of abab…: a → b 50 times, b → a 49 times; α = 1.
            let model = BigramModel(ids: Array(repeating: [0, 1], count: 50).flatMap { $0 }, vocabularySize: 2)
            let (ab, ba) = (51.0 / 52, 50.0 / 51)
            let expected = -(2 * Foundation.log(ab) + 2 * Foundation.log(ba)) / 4
            let got = model.loss([0, 1, 0, 1, 0])
            #expect(Swift.abs(got - expected) < 1e-12,
                    "after abab…, P(b | a) = 51/52 and P(a | b) = 50/51: loss(ababa) = −(2·log(51/52) + 2·log(50/51))/4 = \(expected), small but not 0; got \(got)")
        }
    }

    // MARK: 13.3 — embedding lookup

    @Suite("13.3 embedding lookup") struct Exercise_13_3 {
        @Test func eachIdPicksItsRow() {
            let table = Tensor((0..<12).map(Float.init), shape: [4, 3])  // row r is 3r, 3r + 1, 3r + 2
            let out = table.embedding([2, 0, 3, 2], shape: [2, 2])
            let expected: [Float] = [6, 7, 8, 0, 1, 2, 9, 10, 11, 6, 7, 8]
            let got = out.toArray()
            #expect(out.shape == [2, 2, 3], "ids of shape [2, 2] in a table [4, 3]: the output is [2, 2, 3], got \(out.shape)")
            #expect(got == expected,
                    "ids [2, 0, 3, 2] pick rows 2, 0, 3 and 2: expected \(expected), got \(got)\(got == (0..<12).map(Float.init) ? " — output row k is row ids[k] of the table, not row k" : "")")
        }

        @Test func aTransposedTable() {
            let stored = Tensor((0..<12).map(Float.init), shape: [3, 4])
            let table = stored.transposed()  // [4, 3], not contiguous: row r is r, r + 4, r + 8
            let got = table.embedding([1, 3]).toArray()
            let expected: [Float] = [1, 5, 9, 3, 7, 11]
            #expect(got == expected,
                    "rows 1 and 3 of a transposed table (strides \(table.strides)): expected \(expected), got \(got)\(got == [3, 4, 5, 9, 10, 11] ? " — the table is a view (here transposed): read it through contiguous(), not its storage directly" : "")")
        }

        @Test func theLookupIsANodeOfTheGraph() {
            let table = Tensor((0..<6).map(Float.init), shape: [3, 2], requiresGrad: true)
            let out = table.embedding([1, 1, 0])
            #expect(out.toArray() == [2, 3, 2, 3, 0, 1], "rows 1, 1, 0: got \(out.toArray())")
            #expect(out.node?.op == "embedding",
                    "the lookup must be recorded as a node \"embedding\" (Tensor.record) so that backward() can reach the table, got \(out.node?.op ?? "no node") — record the lookup")
        }

        @Test func theEmbeddingLayer() {
            let layer = withSeed(1) { Embedding(5, 2) }
            let ids = Tensor([4, 0, 1, 4], shape: [2, 2])
            let out = layer(ids)
            let w = layer.weight.toArray()
            let expected = [4, 0, 1, 4].flatMap { [w[2 * $0], w[2 * $0 + 1]] }
            #expect(out.shape == [2, 2, 2] && out.toArray() == expected,
                    "Embedding(5, 2) of ids [[4, 0], [1, 4]]: [2, 2, 2], the rows of its weight; got \(out.shape) \(out.toArray())")
        }
    }

    // MARK: 13.4 — embedding backward

    @Suite("13.4 embedding backward") struct Exercise_13_4 {
        @Test func aRepeatedIdCollectsEveryUse() {
            let table = Tensor.zeros([4, 3], requiresGrad: true)
            let out = table.embedding([2, 0, 2, 2])
            let upstream = Tensor((1...12).map(Float.init), shape: [4, 3])
            (out * upstream).sum().backward()
            let got = table.grad?.toArray() ?? []
            // Row 0 gets upstream row 1; row 2 gets rows 0, 2 and 3 added; rows 1 and 3 nothing.
            let expected: [Float] = [4, 5, 6, 0, 0, 0, 18, 21, 24, 0, 0, 0]
            #expect(got == expected,
                    "ids [2, 0, 2, 2], upstream rows [1 2 3], [4 5 6], [7 8 9], [10 11 12]: expected table.grad \(expected), got \(got)\(got == [4, 5, 6, 0, 0, 0, 10, 11, 12, 0, 0, 0] ? " — added, not assigned: id 2 is used three times, and its row's gradient is the sum of the three (+=)" : "")")
        }

        @Test func aTransposedIncomingGradient() {
            // The gradient that arrives may be a view: here [2, 3] read from a transposed [3, 2].
            let upstream = Tensor((1...6).map(Float.init), shape: [3, 2]).transposed()  // rows [1 3 5], [2 4 6]
            let got = embeddingBackward(upstream, ids: [1, 1], rows: 3).toArray()
            let expected: [Float] = [0, 0, 0, 3, 7, 11, 0, 0, 0]
            #expect(got == expected,
                    "ids [1, 1] and an upstream gradient [[1, 3, 5], [2, 4, 6]] (a transposed view, strides \(upstream.strides)): expected \(expected), got \(got)\(got == [0, 0, 0, 5, 7, 9, 0, 0, 0] ? " — the incoming gradient may be a view (here transposed): read it through contiguous()" : "")")
        }

        @Test func theShapeOfTheTableAndZeroElsewhere() {
            let grad = embeddingBackward(Tensor.ones([2, 2, 4]), ids: [0, 4, 0, 0], rows: 6)
            #expect(grad.shape == [6, 4], "the gradient has the table's shape [rows, D] = [6, 4], got \(grad.shape)")
            let rows = (0..<6).map { r in grad.toArray()[(4 * r)..<(4 * r + 4)].reduce(0, +) }
            #expect(rows == [12, 0, 0, 0, 4, 0], "row sums: id 0 three times, id 4 once, the rest never: expected [12, 0, 0, 0, 4, 0], got \(rows)")
        }

        @Test func matchesFiniteDifferences() {
            let table = normals([5, 3], seed: 41, requiresGrad: true)
            let report = gradcheck([table]) { $0[0].embedding([4, 1, 1, 0, 4, 4], shape: [2, 3]).tanh() }
            #expect(report.passed, "an embedding lookup (ids repeat) against finite differences (lesson 7):\n\(report)")
        }
    }

    // MARK: 13.5 — one RNN step

    @Suite("13.5 one RNN step") struct Exercise_13_5 {
        @Test func theElmanCellByHand() {
            let cell = RNNCell(2, 3)
            drawWeights(cell, seed: 51)
            let x = normals([2, 2], seed: 52), h = normals([2, 3], seed: 53, scale: 0.5)
            let got = cell.step(x, h).toArray()
            let w = CellWeights(cell)
            let (xs, hs) = (x.toArray().map(Double.init), h.toArray().map(Double.init))
            let expected = rnnStep(w, x: xs, h: hs, batch: 2)
            var hint = ""
            if near(got, rnnStep(w, x: xs, h: hs, batch: 2, squash: .none)) {
                hint = " — h' = tanh(…): the sum goes through tanh"
            } else if near(got, rnnStep(w, x: xs, h: hs, batch: 2, squash: .relu)) {
                hint = " — the Elman cell squashes with tanh, not relu"
            } else if near(got, rnnStep(w, x: xs, h: hs, batch: 2, state: false)) {
                hint = " — the previous state h must enter the sum: + h·W_hhᵀ + b_hh"
            } else if near(got, rnnStep(w, x: xs, h: hs, batch: 2, biases: false)) {
                hint = " — the biases b_ih and b_hh are part of the sum"
            }
            #expect(near(got, expected), "RNNCell(2, 3).step(x, h) = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh): expected \(head(expected)), got \(head(got))\(hint)")
        }

        @Test func withoutBiases() {
            let cell = RNNCell(3, 2, bias: false)
            drawWeights(cell, seed: 54)
            let x = normals([1, 3], seed: 55), h = normals([1, 2], seed: 56)
            let expected = rnnStep(CellWeights(cell), x: x.toArray().map(Double.init), h: h.toArray().map(Double.init), batch: 1)
            let got = cell.step(x, h)
            #expect(got.shape == [1, 2] && near(got.toArray(), expected),
                    "RNNCell(3, 2, bias: false), a batch of one: expected [1, 2] \(expected.map { Float($0) }), got \(got.shape) \(got.toArray())")
        }

        @Test func gradientsMatchFiniteDifferences() {
            let cell = RNNCell(3, 2)
            drawWeights(cell, seed: 57)
            let x = normals([2, 3], seed: 58, requiresGrad: true), h = normals([2, 2], seed: 59, requiresGrad: true)
            let report = gradcheck([x, h, cell.weightIH, cell.weightHH, cell.biasIH!]) { _ in cell.step(x, h) }
            #expect(report.passed, "one RNN step against finite differences: x, h, W_ih, W_hh and b_ih:\n\(report)")
        }
    }

    // MARK: 13.6 — unrolling through time

    @Suite("13.6 unrolling through time") struct Exercise_13_6 {
        /// An RNN(3, 4) with drawn weights, a drawn [2, 5, 3] sequence, and the states by hand.
        static func sequenceByHand(start: [Double]? = nil) -> (rnn: RNN, x: Tensor, states: [[Double]]) {
            let rnn = RNN(3, 4)
            drawWeights(rnn, seed: 61)
            let x = normals([2, 5, 3], seed: 62)
            let xs = x.toArray().map(Double.init)
            let w = CellWeights(rnn.cell)
            var h = start ?? [Double](repeating: 0, count: 8), states: [[Double]] = []
            for t in 0..<5 {
                h = rnnStep(w, x: step(xs, t, batch: 2, steps: 5, features: 3), h: h, batch: 2)
                states.append(h)
            }
            return (rnn, x, states)
        }

        @Test func oneStepPerPositionTheStateCarried() {
            let (rnn, x, states) = Self.sequenceByHand()
            let (output, last) = rnn.run(x)
            let expected = stackedOverTime(states, batch: 2, hidden: 4)
            #expect(output.shape == [2, 5, 4],
                    "RNN(3, 4) over [2, 5, 3]: the outputs are [B, T, H] = [2, 5, 4], got \(output.shape)\(output.shape == [5, 2, 4] ? " — stack the states along axis 1, time (batch first)" : "")")
            guard output.shape == [2, 5, 4] else { return }
            let got = output.toArray()
            let w = CellWeights(rnn.cell), xs = x.toArray().map(Double.init)
            let fromZero = (0..<5).map { t in rnnStep(w, x: step(xs, t, batch: 2, steps: 5, features: 3), h: [Double](repeating: 0, count: 8), batch: 2) }
            let before = [[Double](repeating: 0, count: 8)] + states.dropLast()
            var hint = ""
            if near(got, stackedOverTime(fromZero, batch: 2, hidden: 4)) {
                hint = " — carry the state: each step starts from the state the step before returned, not from the first state"
            } else if near(got, stackedOverTime(before, batch: 2, hidden: 4)) {
                hint = " — output t is the state after step t: append it after calling step"
            }
            #expect(near(got, expected), "the outputs of RNN(3, 4) over [2, 5, 3]: expected \(head(expected)), got \(head(got))\(hint)")
            #expect(near(last.toArray(), states[4]), "the last state is the state after the last step: expected \(head(states[4])), got \(head(last.toArray()))")
        }

        @Test func fromAGivenState() {
            let start = normals([2, 4], seed: 63, scale: 0.5)
            let (rnn, x, states) = Self.sequenceByHand(start: start.toArray().map(Double.init))
            let (output, last) = rnn.run(x, start)
            #expect(near(output.toArray(), stackedOverTime(states, batch: 2, hidden: 4)) && near(last.toArray(), states[4]),
                    "RNN.run(x, h) starts from the state h it is given: expected outputs \(head(stackedOverTime(states, batch: 2, hidden: 4))), got \(head(output.toArray()))")
        }

        @Test func theGradientCrossesEveryStep() {
            let rnn = RNN(2, 3)
            drawWeights(rnn, seed: 64, scale: 0.8)
            let x = normals([1, 6, 2], seed: 65, requiresGrad: true)
            // Only the last output: its gradient reaches step 0 by crossing five steps back.
            rnn.run(x).h.sum().backward()
            let first = x.grad?.selected(axis: 1, index: 0).toArray() ?? []
            #expect(first.contains { $0 != 0 },
                    "the last state depends on the first input, so x.grad at step 0 must not be 0, got \(first) — backprop through time: the gradient must cross every step; do not detach the state inside the loop")
            let h0 = normals([1, 3], seed: 66, requiresGrad: true)
            let report = gradcheck([x, h0, rnn.cell.weightHH]) { _ in rnn.run(x, h0).output }
            #expect(report.passed, "RNN(2, 3) over 6 steps against finite differences (x, the first state, W_hh):\n\(report)")
        }
    }

    // MARK: 13.7 — the LSTM's gates

    @Suite("13.7 LSTM gates") struct Exercise_13_7 {
        @Test func oneStepByHand() {
            let cell = LSTMCell(2, 3)
            drawWeights(cell, seed: 71, scale: 0.7)
            let x = normals([2, 2], seed: 72), h = normals([2, 3], seed: 73, scale: 0.5), c = normals([2, 3], seed: 74)
            let next = cell.step(x, LSTMState(h: h, c: c))
            let w = CellWeights(cell)
            let (xs, hs, cs) = (x.toArray().map(Double.init), h.toArray().map(Double.init), c.toArray().map(Double.init))
            let expected = lstmStep(w, x: xs, h: hs, c: cs, batch: 2)
            let (gotH, gotC) = (next.h.toArray(), next.c.toArray())
            var hint = ""
            for (slip, words) in [(LSTMSlip.inputForgetSwapped, " — the gates are stacked in PyTorch's order i, f, g, o: block 0 is the input gate, block 1 the forget gate"),
                                  (.sigmoidCandidate, " — g, the candidate, goes through tanh (values in (−1, 1)); i, f and o through sigmoid"),
                                  (.squashedCell, " — the cell state is not squashed: c' = f·c + i·g, a plain sum"),
                                  (.noTanhOnOutput, " — h' = o·tanh(c'): squash the cell state before the output gate"),
                                  (.oldCellInOutput, " — h' = o·tanh(c') uses the new cell state c', not the old c")] {
                let wrong = lstmStep(w, x: xs, h: hs, c: cs, batch: 2, slip: slip)
                if near(gotH, wrong.h) && near(gotC, wrong.c) { hint = words; break }
            }
            #expect(near(gotC, expected.c), "LSTMCell(2, 3): the new cell state c' = f·c + i·g: expected \(head(expected.c)), got \(head(gotC))\(hint)")
            #expect(near(gotH, expected.h), "LSTMCell(2, 3): the new hidden state h' = o·tanh(c'): expected \(head(expected.h)), got \(head(gotH))\(hint)")
        }

        @Test func theLayerOverASequence() {
            let lstm = LSTM(2, 3)
            drawWeights(lstm, seed: 75, scale: 0.6)
            let x = normals([2, 4, 2], seed: 76)
            let (output, state) = lstm.run(x)
            let w = CellWeights(lstm.cell), xs = x.toArray().map(Double.init)
            var h = [Double](repeating: 0, count: 6), c = h, states: [[Double]] = []
            for t in 0..<4 {
                (h, c) = lstmStep(w, x: step(xs, t, batch: 2, steps: 4, features: 2), h: h, c: c, batch: 2)
                states.append(h)
            }
            let expected = stackedOverTime(states, batch: 2, hidden: 3)
            #expect(output.shape == [2, 4, 3] && near(output.toArray(), expected),
                    "LSTM(2, 3) over [2, 4, 2] from a zero state: expected \(head(expected)), got \(output.shape) \(head(output.toArray()))")
            #expect(near(state.c.toArray(), c), "the last cell state: expected \(head(c)), got \(head(state.c.toArray()))")
        }

        @Test func gradientsMatchFiniteDifferences() {
            let cell = LSTMCell(3, 2)
            drawWeights(cell, seed: 77)
            let x = normals([2, 3], seed: 78, requiresGrad: true)
            let h = normals([2, 2], seed: 79, requiresGrad: true), c = normals([2, 2], seed: 80, requiresGrad: true)
            let report = gradcheck([x, h, c, cell.weightIH, cell.weightHH]) { _ in
                let next = cell.step(x, LSTMState(h: h, c: c))
                return Tensor.concatenated([next.h, next.c], axis: 1)
            }
            #expect(report.passed, "one LSTM step against finite differences: x, h, c, W_ih and W_hh:\n\(report)")
        }
    }

    // MARK: 13.8 — clipping the gradient norm

    @Suite("13.8 clipGradNorm") struct Exercise_13_8 {
        @Test func oneNormOverEveryParameter() {
            let a = Tensor([0, 0], requiresGrad: true), b = Tensor([0], requiresGrad: true)
            a.grad = Tensor([3, 4])
            b.grad = Tensor([12])
            let norm = clipGradNorm([a, b], maxNorm: 1)
            let got = (a.grad?.toArray() ?? []) + (b.grad?.toArray() ?? [])
            var hint = ""
            if close(got, [0.6, 0.8, 1], atol: 1e-4) {
                hint = " — one norm over every parameter together: √(Σ over all parameters of Σ g²), not one norm per parameter"
            } else if close(got, [1, 1, 1]) {
                hint = " — scale the whole gradient (its direction kept), do not clamp each element"
            } else if close(got, [3.0 / 17, 4.0 / 17, 12.0 / 17], atol: 1e-4) {
                hint = " — the global norm is √(Σ g²) over all the gradients, not the sum of their norms"
            }
            let expected: [Float] = [3.0 / 13, 4.0 / 13, 12.0 / 13]
            #expect(close(got, expected, atol: 1e-5),
                    "gradients [3, 4] and [12] have the global norm √(9 + 16 + 144) = 13; clipped to 1, every element is multiplied by 1/13: expected \(expected), got \(got)\(hint)")
            #expect(Swift.abs(norm - 13) < 1e-5, "clipGradNorm returns the norm before clipping, 13, got \(norm)")
        }

        @Test func aSmallGradientIsLeftAlone() {
            let a = Tensor([0, 0], requiresGrad: true), b = Tensor([0, 0], requiresGrad: true)
            a.grad = Tensor([0.3, 0])
            b.grad = Tensor([0, -0.4])
            let norm = clipGradNorm([a, b], maxNorm: 2)
            let got = (a.grad?.toArray() ?? []) + (b.grad?.toArray() ?? [])
            #expect(got == [0.3, 0, 0, -0.4],
                    "a gradient of norm 0.5 with maxNorm 2 is left as it is: expected [0.3, 0, 0, -0.4], got \(got)\(close(got, [1.2, 0, 0, -1.6]) ? " — leave a gradient already within maxNorm alone: clipping only scales down" : "")")
            #expect(Swift.abs(norm - 0.5) < 1e-6, "the norm returned: expected 0.5, got \(norm)")
        }

        @Test func parametersWithoutAGradientAreSkipped() {
            let a = Tensor([0, 0, 0], requiresGrad: true), frozen = Tensor([1, 2], requiresGrad: true)
            a.grad = Tensor([0, 6, 8])
            // A crash gives no expectation message, so say it before the call.
            FileHandle.standardError.write(Data(("Exercise 13.8: clipping parameters of which one has no gradient (grad is nil). If the process crashes here, "
                + "parameters without a gradient were not skipped (Lessons/13-sequences.md).\n").utf8))
            let norm = clipGradNorm([frozen, a], maxNorm: 5)
            #expect(frozen.grad == nil, "a parameter without a gradient keeps none: parameters without a gradient are skipped, got \(frozen.grad?.toArray() ?? [])")
            #expect(Swift.abs(norm - 10) < 1e-5 && close(a.grad?.toArray() ?? [], [0, 3, 4]),
                    "the norm is over the gradients that exist, √(36 + 64) = 10, scaled to 5: expected norm 10 and [0, 3, 4], got \(norm) and \(a.grad?.toArray() ?? [])")
        }
    }

    // MARK: Milestone — an LSTM beats the bigram on English words

    // Your lesson end to end: the words of `wamerican` as one stream of
    // characters, the bigram baseline (13.1, 13.2), then an
    // embedding (13.3, 13.4), an LSTM (13.7's gates in the layer's loop over
    // time) and a linear read-out, trained with clipped gradients (13.8) for a
    // few hundred steps in a debug build. The LSTM sees the whole word so far,
    // the bigram only the last letter.
    // `kindling train --model charlstm` runs the real milestone, on the
    // fortunes.
    @Suite("Milestone: an LSTM beats the bigram on words", .enabled(if: wordsAreInstalled, "wamerican is not installed"))
    struct Milestone {
        @Test func anLSTMPredictsLettersBetterThanTheBigram() throws {
            let corpus = try TextCorpus.words()
            let vocabulary = CharacterVocabulary(corpus.records, extra: ["\n"])
            let train = TextDataset(records: corpus.training, separator: "\n", vocabulary: vocabulary, length: 24)
            let validation = TextDataset(records: Array(corpus.validation.prefix(2000)), separator: "\n", vocabulary: vocabulary, length: 24)
            let bigram = BigramModel(ids: train.ids, vocabularySize: vocabulary.count).loss(validation.ids)
            let v = vocabulary.count
            let model = withSeed(0) { Sequential(Embedding(v, 16), LSTM(16, 64), Linear(64, v)) }
            let optimizer = Adam(parameters: model.parameters(), learningRate: 0.01)
            var batches = DataLoader(train, batchSize: 32, shuffle: true, seed: 0).makeIterator()
            for _ in 0..<MilestoneSettings.steps {
                guard let batch = batches.next() else { break }
                let loss = crossEntropy(model(batch.inputs).reshaped([-1, v]), batch.labels)
                optimizer.zeroGrad()
                loss.backward()
                clipGradNorm(model.parameters(), maxNorm: 1)
                optimizer.step()
            }
            let all = validation.batch(Array(0..<validation.count))
            let lstm = Double(noGrad { crossEntropy(model(all.inputs).reshaped([-1, v]), all.labels) }.item())
            print("Words: bigram validation loss \(bigram), LSTM \(lstm) nats/char after \(MilestoneSettings.steps) steps")
            #expect(lstm < bigram - 0.1,
                    "after \(MilestoneSettings.steps) steps the LSTM should predict the held-out words' letters at least 0.1 nats/char better than the bigram (\(bigram)), got \(lstm)")
        }
    }
}

/// The milestone's length.
private enum MilestoneSettings {
    static let steps = 300
}
