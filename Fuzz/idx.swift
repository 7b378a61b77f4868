// Fuzz target `idx`: readIDX(bytes:name:) on any bytes, gzip-compressed or not.
//
// Every input must end in an IDXArray or a thrown DataError — never a trap,
// a hang or gigabytes of memory. libFuzzer calls `fuzz` once per input.

import Kindling

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A small inflation cap, so that inputs explore the "too big" path
    // without each one costing megabytes.
    do {
        let array = try readIDX(bytes: bytes, name: "fuzz-input", maxInflatedBytes: 16 << 20)
        // What readIDX promises: exactly as many elements as the shape declares.
        let count = array.shape.reduce(1, *)
        check(array.bytes.count == count, "readIDX returned \(array.bytes.count) bytes for shape \(array.shape)")
    } catch let error as DataError {
        check(error.path == "fuzz-input", "a DataError names another file: \(error)")
    } catch {
        fatalError("readIDX threw something other than a DataError: \(error)")
    }
    // The header reader alone, on the raw bytes.
    _ = try? parseIDXHeader(bytes, path: "fuzz-input")
    return 0
}

/// Stops with `message` unless `condition` holds. (`precondition` would do,
/// but an optimized build drops its message; `fatalError` keeps it.)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
