import Foundation

// The values a hidden test observed (Tests/HiddenTests/Support/Observe.swift),
// and the grader's comparison of a submission's with the reference's.
//
// This comparison is what makes a verdict unforgeable. The process that runs
// a test also runs the student's code, which can write anything to any
// descriptor — a fake "test ended" event, a replayed stream. So the grader
// takes none of it on trust: it ran the same tests against the reference, in
// a process of its own with the same grading seed, and a test passes only if
// every value the submission's run observed matches the reference's, within
// the tolerance the *reference's* record carries. A forged stream has to hold
// the right answers; a recorded one holds the answers for another seed.

/// One observation: a labelled value the test saw.
public struct Observation: Sendable, Equatable {
    /// "numbers", "integers", "integer", "bool", "text" or "none".
    public var kind: String
    /// The label, e.g. "the gradient of b".
    public var what: String
    /// The shape of numbers (empty for one number).
    public var shape: [Int]
    /// The values as written (numbers in Swift's shortest exact form).
    public var values: [String]
    /// Tolerance of numbers: |got − expected| ≤ atol + rtol·|expected|.
    public var atol: Double
    public var rtol: Double
    /// The test it came from, as the test process named it (Swift Testing's
    /// id: `Module.Suite/test()/File.swift:line:column`).
    public var test: String

    /// Reads JSON lines; lines that are not observations are skipped.
    public static func parse(_ data: Data) -> [Observation] {
        data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let kind = object["kind"] as? String, let what = object["what"] as? String,
                  let values = object["values"] as? [String] else { return nil }
            return Observation(kind: kind, what: what, shape: object["shape"] as? [Int] ?? [],
                               values: values, atol: object["atol"] as? Double ?? 0,
                               rtol: object["rtol"] as? Double ?? 0, test: object["test"] as? String ?? "")
        }
    }

    /// Whether `self` (the submission's) matches `reference`, judged by the
    /// reference's kind, shape and tolerance.
    func matches(_ reference: Observation) -> Bool {
        guard kind == reference.kind, what == reference.what, shape == reference.shape,
              values.count == reference.values.count else { return false }
        guard reference.kind == "numbers" else { return values == reference.values }
        return zip(values, reference.values).allSatisfy { numbersMatch($0, $1, reference) }
    }

    /// The values for a message: at most 8, then "…".
    var shown: String {
        switch kind {
        case "none": return "nothing (nil)"
        case "text": return values.first.map { "\"\($0)\"" } ?? "\"\""
        case "integer", "bool": return values.first ?? ""
        default:
            let head = values.prefix(8).joined(separator: ", ")
            let list = values.count > 8 ? "[\(head), … (\(values.count) values)]" : "[\(head)]"
            return shape.isEmpty ? (values.first ?? "") : list
        }
    }
}

private func numbersMatch(_ got: String, _ expected: String, _ reference: Observation) -> Bool {
    guard let a = Double(got), let e = Double(expected) else { return got == expected }
    if a.isNaN || e.isNaN { return a.isNaN && e.isNaN }
    if a.isInfinite || e.isInfinite { return a == e }
    return Swift.abs(a - e) <= reference.atol + reference.rtol * Swift.abs(e)
}

/// How a test's observations compare with the reference's.
public struct ObservationComparison: Sendable {
    /// Whether every observation matched, and there were as many.
    public var matched: Bool
    /// For a student: the first differences, each "what: expected …, got …".
    public var differences: [String]
}

/// Compares the submission's observations of one test with the reference's.
public func compareObservations(_ got: [Observation], reference: [Observation]) -> ObservationComparison {
    var differences: [String] = []
    for (index, expected) in reference.enumerated() {
        guard index < got.count else {
            differences.append("\(expected.what): expected \(expected.shown), but the test stopped before observing it "
                + "(\(got.count) of \(reference.count) values were observed)")
            break
        }
        let actual = got[index]
        if actual.what != expected.what || actual.kind != expected.kind {
            differences.append("expected to observe \"\(expected.what)\" next, but the test observed \"\(actual.what)\"")
            break
        }
        if actual.matches(expected) { continue }
        differences.append(describeDifference(actual, expected))
        if differences.count == 3 { break }
    }
    if got.count > reference.count && differences.isEmpty {
        differences.append("the test observed \(got.count - reference.count) more values than the reference's run "
            + "(first extra: \"\(got[reference.count].what)\")")
    }
    return ObservationComparison(matched: differences.isEmpty, differences: differences)
}

/// "what: expected X, got Y", with the worst element and the tolerance for arrays.
private func describeDifference(_ actual: Observation, _ expected: Observation) -> String {
    if actual.shape != expected.shape || actual.values.count != expected.values.count {
        let shape = { (o: Observation) in o.kind == "numbers" ? " (shape \(o.shape))" : "" }
        return "\(expected.what): expected \(expected.shown)\(shape(expected)), got \(actual.shown)\(shape(actual))"
    }
    guard expected.kind == "numbers", expected.values.count > 1 else {
        var text = "\(expected.what): expected \(expected.shown), got \(actual.shown)"
        if expected.kind == "numbers", expected.atol + expected.rtol > 0 {
            text += " (tolerance \(expected.atol) + \(expected.rtol)·|expected|)"
        }
        return text
    }
    // The worst element, by how far past its tolerance it is.
    var worst = (index: 0, excess: -Double.infinity)
    for (i, (g, e)) in zip(actual.values, expected.values).enumerated() where !numbersMatch(g, e, expected) {
        let a = Double(g) ?? .nan, b = Double(e) ?? .nan
        let excess = (a - b).isNaN ? Double.infinity : Swift.abs(a - b) - (expected.atol + expected.rtol * Swift.abs(b))
        if excess > worst.excess { worst = (i, excess) }
    }
    let wrong = zip(actual.values, expected.values).filter { !numbersMatch($0, $1, expected) }.count
    var index = [Int](repeating: 0, count: expected.shape.count)
    var rest = worst.index
    for axis in expected.shape.indices.reversed() where expected.shape[axis] > 0 {
        index[axis] = rest % expected.shape[axis]
        rest /= expected.shape[axis]
    }
    return "\(expected.what): \(wrong) of \(expected.values.count) values differ from the reference's (shape \(expected.shape)); "
        + "the worst is at \(index): expected \(expected.values[worst.index]), got \(actual.values[worst.index]) "
        + "(tolerance \(expected.atol) + \(expected.rtol)·|expected|)"
}
