// The listener a gradient diagnosis places at `Tensor.record` (Diagnose.swift).
//
// Every op hands its result to `Tensor.record` on its way out, in the order
// the ops run. A computation that runs the same code again records the same
// ops in the same order, so "the k-th recorded op" names the same tensor on
// every run. That is what lets a diagnosis reach a tensor that exists only
// *during* a run: the probe counts the calls, keeps a tape of them on the
// first run, and on a later run hands back a perturbed copy of the k-th
// result instead of the result itself.

/// Counts, records and (on request) replaces the results passing through
/// `Tensor.record` while a diagnosis runs a computation.
final class GradientProbe: @unchecked Sendable {  // used by one task, synchronously
    /// The probe listening in the current task, if a diagnosis is running.
    @TaskLocal static var current: GradientProbe?

    /// One call to `Tensor.record`, as it arrived.
    struct Entry {
        /// The op's name.
        let op: String
        /// The tensors it read.
        let inputs: [Tensor]
        /// The tensor it produced.
        let result: Tensor
        /// Its backward rule: the learner's code, called by the diagnosis.
        let backward: (Tensor) -> [Tensor?]
        /// Whether `record` records it: grad mode on and an input requiring grad.
        let tracked: Bool
    }

    /// Every call of the run, in order (when `keepsTape`).
    private(set) var tape: [Entry] = []
    private let keepsTape: Bool
    /// How many calls the current run has made so far.
    private(set) var count = 0
    /// On the next run, the k-th result is replaced by a copy with element
    /// `flat` (row-major) set to `value`.
    var replacement: (op: Int, flat: Int, value: Float)?
    /// The ops whose result values the next run keeps in `captured`.
    var watched: Set<Int> = []
    /// The values (row-major) of the watched results of the last run.
    private(set) var captured: [Int: [Float]] = [:]
    /// Set while the probe itself runs tensor code (reading a strided result
    /// copies it, which calls `record` again): those calls are not counted.
    private var busy = false

    init(keepsTape: Bool) {
        self.keepsTape = keepsTape
    }

    /// Runs `f` with this probe listening and gradients recorded, and
    /// returns its result.
    func run(_ f: () -> Tensor) -> Tensor {
        count = 0
        captured = [:]
        return GradientProbe.$current.withValue(self) { enableGrad { f() } }
    }

    /// Called by `Tensor.record` before it records anything: the result to
    /// record and return — `result` itself, or its perturbed copy.
    func intercept(_ result: Tensor, op: String, inputs: [Tensor],
                   backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard !busy else { return result }
        busy = true
        defer { busy = false }
        let k = count
        count += 1
        if keepsTape {
            tape.append(Entry(op: op, inputs: inputs, result: result, backward: backward,
                              tracked: GradMode.isEnabled && inputs.contains { $0.requiresGrad }))
        }
        if watched.contains(k) { captured[k] = result.toArray() }
        guard let replacement, replacement.op == k else { return result }
        // A copy, never the result's own storage: a view (reshape, transpose,
        // slice) shares its storage with its input, which later ops may read.
        var values = result.toArray()
        values[replacement.flat] = replacement.value
        return Tensor(values, shape: result.shape)
    }
}
