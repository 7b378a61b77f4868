#if canImport(Glibc)
import Glibc
#endif

// Loss functions: one number that says how wrong a prediction is (lesson 9).
// Each returns the mean over the batch, as PyTorch does by default.

/// Mean squared error: mean((input − target)²).
public func mseLoss(_ input: Tensor, _ target: Tensor) -> Tensor {
    require(input.shape == target.shape,
            "mseLoss: input \(input.shape) and target \(target.shape) must have the same shape")
    // BEGIN EXERCISE 9.1 — mean squared error (Lessons/09-losses-optimizers.md)
    let diff = input - target
    return (diff * diff).mean()
    // END EXERCISE 9.1
}

/// Negative log-likelihood: −mean over rows of `logProbs[i, targets[i]]`, for
/// log-probabilities of shape [N, classes] (e.g. from `logSoftmax`).
public func nllLoss(_ logProbs: Tensor, _ targets: [Int]) -> Tensor {
    checkClassification("nllLoss", logProbs, targets)
    // BEGIN EXERCISE 9.2 — negative log-likelihood of the targets (Lessons/09-losses-optimizers.md)
    let (n, classes) = (logProbs.shape[0], logProbs.shape[1])
    // A one-hot mask picks each row's target entry: −Σ mask ⊙ logProbs / N.
    var mask = [Float](repeating: 0, count: n * classes)
    for (i, t) in targets.enumerated() { mask[i * classes + t] = 1 }
    return -(logProbs * Tensor(mask, shape: [n, classes])).sum() / Float(n)
    // END EXERCISE 9.2
}

/// Cross-entropy between `logits` [N, classes] (raw scores) and integer class
/// `targets`: mean over rows of logsumexp(row) − row[target]. The same as
/// `nllLoss(logits.logSoftmax(axis: 1), targets)`.
///
/// This is the FAST path: forward and backward fused into loops over the raw
/// logits, instead of a chain of recorded ops. The forward pass calls
/// `crossEntropyRow` once per row, which also leaves softmax(row) behind; the
/// backward pass turns those probabilities into the classic gradient
/// (softmax(logits) − onehot(targets)) / N with `crossEntropyGradient`.
public func crossEntropy(_ logits: Tensor, _ targets: [Int]) -> Tensor {
    checkClassification("crossEntropy", logits, targets)
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let x = logits.contiguous().detach()
    let probabilities = Tensor(storage: Storage(uninitializedCount: n * classes), shape: [n, classes])
    var total: Double = 0
    for i in 0..<n {
        let row = UnsafeBufferPointer(start: x.storage.base + x.offset + i * classes, count: classes)
        let p = UnsafeMutableBufferPointer(start: probabilities.storage.base + i * classes, count: classes)
        total += Double(crossEntropyRow(row, target: targets[i], probabilities: p))
    }
    withExtendedLifetime((x, probabilities)) {}  // `row` and `p` point into their storage
    let loss = Tensor(scalar: Float(total / Double(n)))
    return Tensor.record(loss, op: "crossEntropy", inputs: [logits]) { [probabilities] g in
        return [crossEntropyGradient(probabilities: probabilities, targets: targets, scale: g.item() / Float(n))]
    }
}

/// One row of cross-entropy, the inner step of `crossEntropy` (lesson 9).
///
/// Returns the row's loss, logsumexp(logits) − logits[target], computed
/// stably (the maximum m is subtracted before `exp`, and the loss is formed
/// as log Σ e^(x − m) − (x_target − m)), and writes softmax(logits)
/// into `probabilities` (same length) for the backward pass.
public func crossEntropyRow(_ logits: UnsafeBufferPointer<Float>, target: Int,
                            probabilities: UnsafeMutableBufferPointer<Float>) -> Float {
    // BEGIN EXERCISE 9.3 — one row of cross-entropy, stably (Lessons/09-losses-optimizers.md)
    var m = -Float.infinity
    for x in logits { m = Swift.max(m, x) }
    var sum: Float = 0
    for j in logits.indices {
        probabilities[j] = expf(logits[j] - m)
        sum += probabilities[j]
    }
    for j in probabilities.indices { probabilities[j] /= sum }
    // log Σ e^(x − m) − (x_target − m): the small numbers first, so no digits are lost next to a large m.
    return logf(sum) - (logits[target] - m)
    // END EXERCISE 9.3
}

/// The gradient of a cross-entropy loss with respect to its logits (lesson 9):
/// (probabilities − onehot(targets)) · `scale`, where `probabilities` [N, classes]
/// holds softmax of each row and `scale` is the upstream gradient over N.
public func crossEntropyGradient(probabilities: Tensor, targets: [Int], scale: Float) -> Tensor {
    require(probabilities.rank == 2 && probabilities.shape[0] == targets.count,
            "crossEntropyGradient: probabilities \(probabilities.shape) need one row per target (\(targets.count))")
    // BEGIN EXERCISE 9.4 — the gradient of cross-entropy: softmax minus one-hot (Lessons/09-losses-optimizers.md)
    let (n, classes) = (probabilities.shape[0], probabilities.shape[1])
    let p = probabilities.contiguous()
    let grad = Tensor(storage: Storage(uninitializedCount: n * classes), shape: [n, classes])
    let d = grad.storage.base
    withExtendedLifetime(p) {  // p may be a fresh copy: keep it alive while it is read
        let source = p.storage.base + p.offset
        for k in 0..<(n * classes) { d[k] = source[k] * scale }
    }
    for (i, t) in targets.enumerated() { d[i * classes + t] -= scale }
    return grad
    // END EXERCISE 9.4
}

/// Binary cross-entropy on raw scores: mean of
/// max(x, 0) − x·y + log(1 + e^(−|x|)), which never overflows (unlike taking
/// a sigmoid first). `targets` are probabilities in [0, 1], same shape.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    require(logits.shape == targets.shape,
            "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) must have the same shape")
    let x = logits.contiguous().detach(), y = targets.contiguous().detach()
    let perElement = zipElements(x, y, op: "binaryCrossEntropyWithLogits") {
        binaryCrossEntropyWithLogits(logit: $0, target: $1)
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

/// Binary cross-entropy of one raw score `logit` (x) against a target
/// probability `target` (y), in the form that never overflows (lesson 9):
/// −[y·log σ(x) + (1 − y)·log(1 − σ(x))] = max(x, 0) − x·y + log(1 + e^(−|x|)).
public func binaryCrossEntropyWithLogits(logit x: Float, target y: Float) -> Float {
    // BEGIN EXERCISE 9.5 — binary cross-entropy on a raw score, without overflow (Lessons/09-losses-optimizers.md)
    return Swift.max(x, 0) - x * y + log1pf(expf(-Swift.abs(x)))
    // END EXERCISE 9.5
}

private func checkClassification(_ op: String, _ scores: Tensor, _ targets: [Int]) {
    require(scores.rank == 2, "\(op): scores must be [N, classes], got \(scores.shape)")
    require(scores.shape[0] == targets.count,
            "\(op): scores \(scores.shape) has \(scores.shape[0]) rows but there are \(targets.count) targets")
    let classes = scores.shape[1]
    for t in targets {
        require(t >= 0 && t < classes, "\(op): target \(t) is out of range for \(classes) classes")
    }
}
