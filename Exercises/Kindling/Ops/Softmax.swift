// Softmax and friends, written so they never overflow: subtracting the
// maximum first leaves every exponent ≤ 0 (lesson 4). The maximum is a
// constant for the gradient (it cancels out), so it is detached.

extension Tensor {
    /// log Σ exp(x) along `axis`, finite even when exp(x) alone would overflow:
    /// log Σ exp(x) = m + log Σ exp(x − m) for the row maximum m.
    public func logsumexp(axis: Int = -1, keepdim: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "logsumexp")
        // BEGIN EXERCISE 4.5 — logsumexp that never overflows (Lessons/04-reductions.md)
        _ = a; fatalError("Exercise 4.5 is not done yet: logsumexp that never overflows — see Lessons/04-reductions.md")
        // END EXERCISE 4.5
    }

    /// exp(x) / Σ exp(x) along `axis`: positive entries summing to 1.
    /// Computed as exp(x − m) / Σ exp(x − m) for the maximum m, which never overflows.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "softmax")
        // BEGIN EXERCISE 4.6 — softmax: shift by the maximum, exponentiate, normalize (Lessons/04-reductions.md)
        _ = a; fatalError("Exercise 4.6 is not done yet: softmax: shift by the maximum, exponentiate, normalize — see Lessons/04-reductions.md")
        // END EXERCISE 4.6
    }

    /// log(softmax(x)) = x − logsumexp(x), computed stably.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "logSoftmax")
        // Shift first, so the small differences are not rounded away next to a large maximum.
        let shifted = self - mapElements(detachedMax(axis: a)) { $0.isFinite ? $0 : 0 }
        return shifted - shifted.exp().sum(axis: a, keepdim: true).log()
    }
}
