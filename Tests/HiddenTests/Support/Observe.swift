// What a hidden test reports to the grader: the values the learner's code
// produced. The grader does not take a test's word that it passed — the
// process that runs a test also runs the learner's code, which can write
// anything to any descriptor. It runs the same test against the reference
// library, in a separate process, with the same grading seed, and a test
// passes only if every value observed here matches the reference's, within
// the reference's tolerance (see the grader's README section). So:
//
// - Observe every value of the learner's code that the test's checks judge,
//   with the test's own tolerance (exact where the test compares with `==`).
// - Never observe what may rightly differ between correct solutions (the
//   order a topological sort picks, the draws of an initialiser whose draw
//   order is not prescribed): observe what the test requires of it instead
//   (its length, whether it is valid, a statistic within the test's bound).
// - Draw inputs with `graded(seed)`: the grader picks a new seed for each
//   grading run, so the right values differ from run to run and a recorded
//   stream from another run is worth nothing. `grader verify` checks that
//   every hidden test observes something and that what it observes changes
//   with the seed.
//
// Outside the grader (`swift test`), observing does nothing and the seed is
// the test's own, so the tests run as before.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Kindling
import Synchronization
import Testing

/// The grading seed mixed into `seed`: the seed a test draws its inputs
/// with. Without a grading run (`KINDLING_GRADING_SEED` unset) it is `seed`.
func graded(_ seed: UInt64) -> UInt64 {
    guard let run = gradingSeed else { return seed }
    // SplitMix64's finaliser: nearby seeds give unrelated streams.
    var z = seed ^ (run &* 0x9E37_79B9_7F4A_7C15)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// The grader's seed for this run, if any.
private let gradingSeed: UInt64? = ProcessInfo.processInfo.environment["KINDLING_GRADING_SEED"].flatMap { UInt64($0) }

/// Where observations go: the descriptor named by `KINDLING_OBSERVATIONS_FD`.
private let observationDescriptor: Int32? = ProcessInfo.processInfo.environment["KINDLING_OBSERVATIONS_FD"].flatMap { Int32($0) }

/// One line at a time, whole, whatever runs in parallel.
private let observationLock = Mutex(())

/// Reports `values` (row-major, of `shape`) to the grader under the label
/// `what`; they match the reference's when each is within
/// `atol + rtol·|reference|` (NaN matches NaN, ±∞ the same ∞).
func observe(_ what: String, _ values: [Double], shape: [Int]? = nil, atol: Double = 0, rtol: Double = 0) {
    // As text: JSON has no NaN or ∞, and Swift prints the shortest exact form.
    emit(["kind": "numbers", "what": what, "shape": shape ?? [values.count], "values": values.map { "\($0)" },
          "atol": atol, "rtol": rtol])
}

/// A number (see `observe(_:_:shape:atol:rtol:)`).
func observe(_ what: String, _ value: Double, atol: Double = 0, rtol: Double = 0) {
    observe(what, [value], shape: [], atol: atol, rtol: rtol)
}

/// Float numbers.
func observe(_ what: String, _ values: [Float], shape: [Int]? = nil, atol: Float = 0, rtol: Float = 0) {
    observe(what, values.map(Double.init), shape: shape, atol: Double(atol), rtol: Double(rtol))
}

/// A Float number.
func observe(_ what: String, _ value: Float, atol: Float = 0, rtol: Float = 0) {
    observe(what, [Double(value)], shape: [], atol: Double(atol), rtol: Double(rtol))
}

/// Integers, compared exactly (a shape, strides, indices, a count).
func observe(_ what: String, _ values: [Int]) {
    emit(["kind": "integers", "what": what, "values": values.map { "\($0)" }])
}

/// An integer, compared exactly.
func observe(_ what: String, _ value: Int) {
    emit(["kind": "integer", "what": what, "values": ["\(value)"]])
}

/// A yes/no answer, compared exactly. Guessable: never a test's only observation.
func observe(_ what: String, _ value: Bool) {
    emit(["kind": "bool", "what": what, "values": ["\(value)"]])
}

/// A text, compared exactly (an op's name, an error message).
func observe(_ what: String, _ text: String) {
    emit(["kind": "text", "what": what, "values": [text]])
}

/// A tensor's shape and values; a missing tensor (no gradient) is observed as such.
func observe(_ what: String, _ tensor: Tensor?, atol: Float = 1e-5, rtol: Float = 1e-4) {
    guard let tensor else {
        emit(["kind": "none", "what": what, "values": []])
        return
    }
    observe(what, tensor.toArray(), shape: tensor.shape, atol: atol, rtol: rtol)
}

/// Writes one observation line, tagged with the running test's id.
private func emit(_ record: [String: Any]) {
    guard let fd = observationDescriptor else { return }
    var record = record
    record["test"] = Test.current.map { "\($0.id)" } ?? ""
    guard var line = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
    line.append(UInt8(ascii: "\n"))
    observationLock.withLock { _ in
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
