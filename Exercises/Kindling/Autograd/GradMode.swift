/// Whether operations are recorded for autograd in the current task.
///
/// A task-local value rather than a global flag: each task (and thread of
/// work) has its own, so `noGrad` in one place never leaks into another.
public enum GradMode {
    /// `true` unless inside `noGrad { … }`.
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording operations: results do not require grad.
/// Use it for evaluation and for optimizer updates.
///
///     let accuracy = noGrad { evaluate(model) }
public func noGrad<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Runs `body` with recording switched on, even inside `noGrad`.
public func enableGrad<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradMode.$isEnabled.withValue(true) { try body() }
}

extension Tensor {
    /// Records `op` as the producer of `result` when gradients are on and any
    /// input requires them. `backward` maps the output's gradient to one
    /// gradient per input (or `nil` for inputs that need none). It must not
    /// capture `result` itself — that would be a retain cycle that leaks the
    /// whole graph; save `result.detach()` instead.
    ///
    /// When nothing is recorded (inside `noGrad`, or no input requires grad)
    /// the result is returned as it is: a plain tensor with no history, at no
    /// cost beyond this check. Every operation calls this on its way out, and
    /// so can an op of your own (PyTorch's `autograd.Function`):
    ///
    ///     // softsign(x) = x / (1 + |x|), whose derivative is 1 / (1 + |x|)²
    ///     func softsign(_ x: Tensor) -> Tensor {
    ///         let y = noGrad { x / (x.abs() + 1) }
    ///         return Tensor.record(y, op: "softsign", inputs: [x]) { g in
    ///             let d = x.abs() + 1
    ///             return [g / (d * d)]
    ///         }
    ///     }
    public static func record(_ result: Tensor, op: String, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        // A gradient diagnosis (`diagnoseGradients`, Diagnose.swift) may be
        // watching: it numbers every op, and may swap this result for a
        // perturbed copy. When none is watching, this is one task-local read.
        let result = GradientProbe.current?.intercept(result, op: op, inputs: inputs, backward: backward) ?? result
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return result }
        // BEGIN EXERCISE 6.1 — record a node in the graph (Lessons/06-tensor-autograd.md)
        fatalError("Exercise 6.1 is not done yet: record a node in the graph — see Lessons/06-tensor-autograd.md")
        // END EXERCISE 6.1
    }

    /// A tensor sharing this one's storage with no recorded history: gradients
    /// stop here.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }
}
