#if canImport(Glibc)
import Glibc
#endif

// Loss functions: one number that says how wrong a prediction is (lesson 9).
// Each returns the mean over the batch, as PyTorch does by default.

/// Mean squared error: mean((input − target)²).
public func mseLoss(_ input: Tensor, _ target: Tensor) -> Tensor {
    precondition(input.shape == target.shape,
                 "mseLoss: input \(input.shape) and target \(target.shape) must have the same shape")
    let diff = input - target
    return (diff * diff).mean()
}

/// Negative log-likelihood: −mean over rows of `logProbs[i, targets[i]]`, for
/// log-probabilities of shape [N, classes] (e.g. from `logSoftmax`).
public func nllLoss(_ logProbs: Tensor, _ targets: [Int]) -> Tensor {
    checkClassification("nllLoss", logProbs, targets)
    let (n, classes) = (logProbs.shape[0], logProbs.shape[1])
    // A one-hot mask picks each row's target entry: −Σ mask ⊙ logProbs / N.
    var mask = [Float](repeating: 0, count: n * classes)
    for (i, t) in targets.enumerated() { mask[i * classes + t] = 1 }
    return -(logProbs * Tensor(mask, shape: [n, classes])).sum() / Float(n)
}

/// Cross-entropy between `logits` [N, classes] (raw scores) and integer class
/// `targets`: mean over rows of logsumexp(row) − row[target]. The same as
/// `nllLoss(logits.logSoftmax(axis: 1), targets)`.
///
/// This is the FAST path: forward and backward fused into two loops over the
/// logits, instead of a chain of recorded ops. Its gradient is the classic
/// (softmax(logits) − onehot(targets)) / N.
public func crossEntropy(_ logits: Tensor, _ targets: [Int]) -> Tensor {
    checkClassification("crossEntropy", logits, targets)
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let x = logits.contiguous().detach()
    let src = x.storage.base + x.offset
    let probabilities = Tensor(storage: Storage(uninitializedCount: n * classes), shape: [n, classes])
    let p = probabilities.storage.base
    var total: Double = 0
    for i in 0..<n {
        let row = src + i * classes, prow = p + i * classes
        var m = -Float.infinity
        for j in 0..<classes { m = Swift.max(m, row[j]) }
        var sum: Float = 0
        for j in 0..<classes {
            prow[j] = expf(row[j] - m)
            sum += prow[j]
        }
        let inverse = 1 / sum
        for j in 0..<classes { prow[j] *= inverse }
        total += Double(m + logf(sum) - row[targets[i]])
    }
    withExtendedLifetime(x) {}  // `src` points into x's storage
    let loss = Tensor(scalar: Float(total / Double(n)))
    return Tensor.record(loss, op: "crossEntropy", inputs: [logits]) { [probabilities] g in
        let p = probabilities.storage.base
        let scale = g.item() / Float(n)
        let grad = Tensor(storage: Storage(uninitializedCount: n * classes), shape: [n, classes])
        let d = grad.storage.base
        for k in 0..<(n * classes) { d[k] = p[k] * scale }
        for (i, t) in targets.enumerated() { d[i * classes + t] -= scale }
        return [grad]
    }
}

/// Binary cross-entropy on raw scores: mean of
/// max(x, 0) − x·y + log(1 + e^(−|x|)), which never overflows (unlike taking
/// a sigmoid first). `targets` are probabilities in [0, 1], same shape.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    precondition(logits.shape == targets.shape,
                 "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) must have the same shape")
    let x = logits.contiguous().detach(), y = targets.contiguous().detach()
    let perElement = zipElements(x, y, op: "binaryCrossEntropyWithLogits") { x, y in
        Swift.max(x, 0) - x * y + log1pf(expf(-Swift.abs(x)))
    }
    let n = Float(logits.count)
    let loss = Tensor(scalar: perElement.sum().item() / n)
    // d/dx = (σ(x) − y) / N,  d/dy = −x / N.
    return Tensor.record(loss, op: "binaryCrossEntropyWithLogits", inputs: [logits, targets]) { g in
        let scale = g.item() / n
        return [zipElements(x.sigmoid(), y, op: "bce backward") { ($0 - $1) * scale },
                targets.requiresGrad ? x * (-scale) : nil]
    }
}

private func checkClassification(_ op: String, _ scores: Tensor, _ targets: [Int]) {
    precondition(scores.rank == 2, "\(op): scores must be [N, classes], got \(scores.shape)")
    precondition(scores.shape[0] == targets.count,
                 "\(op): scores \(scores.shape) has \(scores.shape[0]) rows but there are \(targets.count) targets")
    let classes = scores.shape[1]
    for t in targets {
        precondition(t >= 0 && t < classes, "\(op): target \(t) is out of range for \(classes) classes")
    }
}
