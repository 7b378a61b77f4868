// Fuzz target `safetensors`: loadSafetensors(bytes:name:) and
// loadSafetensorsMetadata(bytes:name:) on any bytes.
//
// Every input must end in tensors or a thrown SafetensorsError — never a
// trap, a hang or an allocation the file's size does not justify.

import Kindling

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let tensors = try loadSafetensors(bytes: bytes, name: "fuzz-input")
        // Every tensor's elements come from the file's bytes (at least 2 bytes each).
        var elements = 0
        for (name, tensor) in tensors {
            check(tensor.shape.allSatisfy { $0 >= 0 }, "tensor \(name) has shape \(tensor.shape)")
            let values = tensor.toArray()
            check(values.count == tensor.shape.reduce(1, *), "tensor \(name): \(values.count) values, shape \(tensor.shape)")
            elements += values.count
        }
        check(2 * elements <= size, "\(elements) elements from a file of \(size) bytes")
    } catch let error as SafetensorsError {
        check(error.path == "fuzz-input", "a SafetensorsError names another file: \(error)")
    } catch {
        fatalError("loadSafetensors threw something other than a SafetensorsError: \(error)")
    }
    _ = try? loadSafetensorsMetadata(bytes: bytes, name: "fuzz-input")
    return 0
}

/// Stops with `message` unless `condition` holds. (`precondition` would do,
/// but an optimized build drops its message; `fatalError` keeps it.)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
