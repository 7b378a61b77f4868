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
    fatalError("Exercise 13.8 is not done yet: one norm over every gradient, one scale for all — see Lessons/13-sequences.md")
    // END EXERCISE 13.8
}
