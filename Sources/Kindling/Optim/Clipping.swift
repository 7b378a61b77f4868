// Gradient clipping by global norm (lesson 13). Backpropagation through many
// time steps multiplies by the recurrent weights once per step; when their
// scale is above one the gradient grows geometrically and a single batch can
// throw the weights far away ("exploding gradients"). Clipping rescales the
// whole gradient — every parameter by the same factor, so its direction is
// kept — whenever its length exceeds a bound.

/// Scales every parameter's gradient by maxNorm / ‖g‖ when the global norm
/// ‖g‖ = √(Σ over all parameters of Σ g²) exceeds `maxNorm`, as PyTorch's
/// `clip_grad_norm_` does (with its 1e-6 added to the norm). Parameters
/// without a gradient are skipped. Returns the norm before clipping, so a
/// training loop can log it.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    require(maxNorm > 0, "clipGradNorm: maxNorm must be positive, got \(maxNorm)")
    // BEGIN EXERCISE 13.8 — one norm over every gradient, one scale for all (Lessons/13-sequences.md)
    var squares: Double = 0
    for p in parameters {
        guard let g = p.grad?.contiguous() else { continue }
        let values = g.storage.base + g.offset
        for k in 0..<g.count { squares += Double(values[k]) * Double(values[k]) }
        withExtendedLifetime(g) {}  // `values` points into g's storage
    }
    let norm = Float(squares.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    guard scale < 1 else { return norm }
    for p in parameters {
        if let g = p.grad { p.grad = mapElements(g) { $0 * scale } }
    }
    return norm
    // END EXERCISE 13.8
}
