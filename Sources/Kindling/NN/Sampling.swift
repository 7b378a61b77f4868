#if canImport(Glibc)
import Glibc
#endif

// Sampling the next token from a model's logits (lesson 14). Greedy choice
// (always the most likely) loops on the same few words; sampling from the
// softmax gives variety, and two knobs trade variety for sense:
// - temperature T divides the logits first: T < 1 sharpens the
//   distribution toward the likely tokens, T > 1 flattens it;
// - top-k keeps only the k most likely tokens and renormalizes, so a
//   long tail of unlikely ones can never be drawn.

/// An id drawn from softmax(logits / temperature), restricted to the `topK`
/// largest logits when given, using `generator` (so a seed gives the same
/// text every run). Temperature 0 means greedy: the largest logit, first
/// one on ties.
public func sampleToken(logits: [Float], temperature: Float = 1, topK: Int? = nil,
                        using generator: inout SeededGenerator) -> Int {
    require(!logits.isEmpty, "sampleToken: no logits")
    require(temperature >= 0, "sampleToken: temperature must be ≥ 0, got \(temperature)")
    if let topK { require(topK >= 1, "sampleToken: topK must be at least 1, got \(topK)") }
    var best = 0
    for i in logits.indices where logits[i] > logits[best] { best = i }
    if temperature == 0 { return best }
    // Keep the k largest (all, without top-k); ties at the k-th value are kept.
    var kept = Array(logits.indices)
    if let topK, topK < logits.count {
        let threshold = logits.sorted(by: >)[topK - 1]
        kept = kept.filter { logits[$0] >= threshold }
    }
    // softmax over the kept logits / T, shifted by the maximum so exp never overflows.
    let weights = kept.map { Double(expf((logits[$0] - logits[best]) / temperature)) }
    let total = weights.reduce(0, +)
    var u = Double(generator.next() >> 11) / Double(1 << 53) * total  // uniform in [0, total)
    for (i, w) in zip(kept, weights) {
        if u < w { return i }
        u -= w
    }
    return kept.last!  // rounding left u just past the last weight
}
