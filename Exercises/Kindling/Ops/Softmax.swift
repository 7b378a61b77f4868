// Softmax and friends, written so they never overflow: subtracting the
// maximum first leaves every exponent ≤ 0 (lesson 4). The maximum is a
// constant for the gradient (it cancels out), so it is detached.

extension Tensor {
    /// log Σ exp(x) along `axis`, finite even when exp(x) alone would overflow.
    public func logsumexp(axis: Int = -1, keepdim: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "logsumexp")
        let m = noGrad { max(axis: a, keepdim: true) }
        let safeM = mapElements(m) { $0.isFinite ? $0 : 0 }  // all −∞ rows stay −∞, not NaN
        let lse = (self - safeM).exp().sum(axis: a, keepdim: true).log() + safeM
        return keepdim ? lse : lse.squeezed(axis: a)
    }

    /// exp(x) / Σ exp(x) along `axis`: positive entries summing to 1.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "softmax")
        let m = noGrad { max(axis: a, keepdim: true) }
        let e = (self - m).exp()
        return e / e.sum(axis: a, keepdim: true)
    }

    /// log(softmax(x)) = x − logsumexp(x), computed stably.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "logSoftmax")
        // Shift first, so the small differences are not rounded away next to a large maximum.
        let m = noGrad { max(axis: a, keepdim: true) }
        let shifted = self - mapElements(m) { $0.isFinite ? $0 : 0 }
        return shifted - shifted.exp().sum(axis: a, keepdim: true).log()
    }
}
