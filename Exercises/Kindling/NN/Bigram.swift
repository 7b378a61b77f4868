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
    /// Added to every count.
    public let smoothing: Double

    /// Counts every consecutive pair of `ids` (each in 0..<vocabularySize).
    public init(ids: [Int], vocabularySize: Int, smoothing: Double = 1) {
        require(vocabularySize > 0, "BigramModel: the vocabulary must not be empty")
        require(smoothing >= 0, "BigramModel: smoothing must be ≥ 0, got \(smoothing)")
        var counts = [[Int]](repeating: [Int](repeating: 0, count: vocabularySize), count: vocabularySize)
        for (a, b) in zip(ids, ids.dropFirst()) {
            require(a >= 0 && a < vocabularySize && b >= 0 && b < vocabularySize,
                    "BigramModel: id \(max(a, b)) is outside the vocabulary of \(vocabularySize)")
            counts[a][b] += 1
        }
        self.counts = counts
        self.smoothing = smoothing
    }

    /// P(next = b | current = a).
    public func probability(of b: Int, after a: Int) -> Double {
        let row = counts[a]
        let total = Double(row.reduce(0, +)) + smoothing * Double(row.count)
        return total > 0 ? (Double(row[b]) + smoothing) / total : 0
    }

    /// The mean negative log-likelihood, in nats per character, of each
    /// character of `ids` given the one before: the cross-entropy a neural
    /// model's loss is compared with.
    public func loss(_ ids: [Int]) -> Double {
        require(ids.count >= 2, "BigramModel.loss: needs at least two characters")
        var total = 0.0
        for (a, b) in zip(ids, ids.dropFirst()) { total -= log(probability(of: b, after: a)) }
        return total / Double(ids.count - 1)
    }

    /// The next-character logits after `a` (log-probabilities), for sampling.
    public func logits(after a: Int) -> [Float] {
        counts[a].indices.map { Float(log(probability(of: $0, after: a))) }
    }
}
