/// Stops the program with `message` unless `condition` holds, in every kind
/// of build. Kindling checks its callers' input (shapes, axes, sizes) with it.
///
/// Why not Swift's `precondition`? It stops the program in release (`-O`)
/// builds too, but drops its message there: a shape mismatch under
/// `swift run -c release` would end in a bare "Illegal instruction". A
/// `fatalError` always prints, so the check costs the same (a branch) and
/// still says what went wrong:
///
///     require(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
