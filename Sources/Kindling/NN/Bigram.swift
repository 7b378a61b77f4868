// The bigram model (lesson 13): the baseline every sequence model must beat.
// It predicts the next character from the current one alone, by counting:
// P(b | a) = (count(a → b) + α) / (count(a → ·) + α·V). No gradient, no
// training loop — and its loss on held-out text says how much of a
// language's predictability sits in one character of context.

#if canImport(Glibc)
import Glibc
#endif

/// Next-character probabilities from counted pairs, with add-α smoothing
/// (so a pair never seen in training has a small probability, not zero —
/// one unseen pair in the validation text would make the loss infinite).
public struct BigramModel: Sendable {
    /// counts[a][b]: how often character b followed character a.
    public let counts: [[Int]]
    /// probabilities[a][b] = P(next = b | current = a): each row of
    /// `counts` plus α, divided by its sum. Each row adds up to 1 (a row
    /// with no count at all and α = 0 is all zeros).
    public let probabilities: [[Double]]
    /// Added to every count: α.
    public let smoothing: Double

    /// Counts every consecutive pair of `ids` (each in 0..<vocabularySize)
    /// and turns each row of counts into probabilities.
    public init(ids: [Int], vocabularySize: Int, smoothing: Double = 1) {
        require(vocabularySize > 0, "BigramModel: the vocabulary must not be empty")
        require(smoothing >= 0, "BigramModel: smoothing must be ≥ 0, got \(smoothing)")
        // BEGIN EXERCISE 13.1 — count each pair of neighbours, then smooth each row into probabilities (Lessons/13-sequences.md)
        let v = vocabularySize
        var counts = [[Int]](repeating: [Int](repeating: 0, count: v), count: v)
        for (a, b) in zip(ids, ids.dropFirst()) {
            require(a >= 0 && a < v && b >= 0 && b < v, "BigramModel: id \(max(a, b)) is outside the vocabulary of \(v)")
            counts[a][b] += 1
        }
        var probabilities = [[Double]](repeating: [Double](repeating: 0, count: v), count: v)
        for a in 0..<v {
            // Add α to each of the V counts of the row, so the row's total grows by α·V.
            let total = Double(counts[a].reduce(0, +)) + smoothing * Double(v)
            guard total > 0 else { continue }  // α = 0 and a never seen: no prediction
            for b in 0..<v { probabilities[a][b] = (Double(counts[a][b]) + smoothing) / total }
        }
        self.counts = counts
        self.probabilities = probabilities
        self.smoothing = smoothing
        // END EXERCISE 13.1
    }

    /// P(next = b | current = a).
    public func probability(of b: Int, after a: Int) -> Double { probabilities[a][b] }

    /// The mean negative log-likelihood, in nats per character, of each
    /// character of `ids` given the one before: the cross-entropy a neural
    /// model's loss is compared with.
    public func loss(_ ids: [Int]) -> Double {
        require(ids.count >= 2, "BigramModel.loss: needs at least two characters")
        // BEGIN EXERCISE 13.2 — the mean negative log-likelihood, in nats per character (Lessons/13-sequences.md)
        var total = 0.0
        for (a, b) in zip(ids, ids.dropFirst()) { total -= log(probabilities[a][b]) }
        return total / Double(ids.count - 1)  // ids.count − 1 predictions: the first character has no predecessor
        // END EXERCISE 13.2
    }

    /// The next-character logits after `a` (log-probabilities), for sampling.
    public func logits(after a: Int) -> [Float] {
        probabilities[a].map { Float(log($0)) }
    }
}
