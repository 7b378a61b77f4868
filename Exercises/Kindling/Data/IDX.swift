// The IDX format: how MNIST and Fashion-MNIST ship their images and labels (lesson 10).
//
//     byte 0, 1   zero, zero                       (the "magic")
//     byte 2      element type: 0x08 = unsigned byte
//     byte 3      rank: how many dimensions follow
//     then        one big-endian UInt32 per dimension
//     then        the elements, row-major
//
// The files are usually gzip-compressed; we inflate them in memory with zlib.
// Every way a file can be wrong becomes a thrown `DataError` — never a crash.

import CZlib
import Foundation

/// What went wrong reading a data file: which file, and why.
///
/// Thrown by `readIDX(_:)` and `FashionMNIST.load(_:directory:)`; its
/// `description` reads "path: reason", e.g.
/// `train-images-idx3-ubyte: truncated data: expected 47040000 bytes, found 1000`.
public struct DataError: Error, CustomStringConvertible {
    /// The file (or, for a search, the file name) the error is about.
    public let path: String
    /// What was wrong, in words.
    public let reason: String

    /// An error about `path`, explained by `reason`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "path: reason".
    public var description: String { "\(path): \(reason)" }
}

/// The contents of an IDX file: its shape and its elements as raw bytes.
public struct IDXArray {
    /// The size of each dimension, e.g. `[60000, 28, 28]` for MNIST images.
    public let shape: [Int]
    /// The elements in row-major order; `bytes.count` is the product of `shape`.
    public let bytes: [UInt8]

    /// An array with the given shape and elements.
    public init(shape: [Int], bytes: [UInt8]) {
        self.shape = shape
        self.bytes = bytes
    }
}

/// Reads an IDX file of unsigned bytes (type 0x08), gzip-compressed or not.
///
/// Throws a `DataError` naming `path` if the file is missing, is not IDX, has
/// another element type, or is truncated, padded or corrupt.
public func readIDX(_ path: String) throws -> IDXArray {
    try readIDX(bytes: readFile(path), name: path)
}

/// The most bytes `readIDX` inflates a gzip-compressed file to: 1 GiB, more
/// than twenty times Fashion-MNIST's largest file.
public let idxMaxInflatedBytes = 1 << 30

/// Reads an IDX file already in memory, gzip-compressed or not; `name` (the
/// file's path) is what error messages call it.
///
/// Compressed bytes are untrusted: a few kilobytes can inflate to gigabytes
/// (a "gzip bomb"). So inflating stops with a `DataError` as soon as the
/// output grows past what the IDX header declares (plus a little slack), or
/// past `maxInflatedBytes` whatever the header says.
public func readIDX(bytes: [UInt8], name: String, maxInflatedBytes: Int = idxMaxInflatedBytes) throws -> IDXArray {
    let contents = isGzip(bytes) ? try gunzip(bytes, path: name, maxSize: maxInflatedBytes) : bytes
    return try parseIDX(contents, path: name)
}

// MARK: - Reading the file

/// The whole file as bytes, or a `DataError` saying why it cannot be read.
private func readFile(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError(path: path, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw DataError(path: path, reason: "is a directory, not a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError(path: path, reason: "cannot read the file (permissions?)")
    }
    return [UInt8](data)
}

/// Whether `bytes` start with gzip's magic number, 1f 8b.
private func isGzip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
}

// MARK: - gzip

/// Inflates a gzip stream in memory. A stream that stops before its end
/// marker (a truncated download) or fails its checksum is an error, and so is
/// one that inflates to more than its IDX header declares (plus 64 KiB of
/// slack, so that a padded file is still reported as "trailing garbage") or
/// to more than `maxSize` bytes.
private func gunzip(_ compressed: [UInt8], path: String, maxSize: Int) throws -> [UInt8] {
    func corrupt(_ why: String) -> DataError { DataError(path: path, reason: "corrupt gzip: \(why)") }

    var stream = z_stream()
    // windowBits 16 + MAX_WBITS tells zlib to expect a gzip header and trailer.
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw corrupt("zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }

    var output: [UInt8] = []
    output.reserveCapacity(min(gzipSizeHint(compressed), maxSize))
    var limit = maxSize, limitReason = "the most readIDX inflates"
    var headerRead = false
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var status = Z_OK
    var unusedInput = 0
    try compressed.withUnsafeBufferPointer { input in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = uInt(input.count)
        // Inflate one chunk at a time until zlib reports the end (or a problem).
        while status == Z_OK {
            let produced = chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return out.count - Int(stream.avail_out)
            }
            // As soon as the header is there, the size it declares bounds the rest.
            // (A header is at most 4 + 4·255 bytes, so this looks at 2 KiB at most.)
            if !headerRead, let declared = try declaredIDXSize(output + chunk.prefix(min(produced, 1024)), path: path) {
                headerRead = true
                let (withSlack, overflow) = declared.addingReportingOverflow(64 << 10)
                if !overflow && withSlack < limit {
                    (limit, limitReason) = (withSlack, "its header declares \(declared) bytes, plus 64 KiB of slack")
                }
            }
            // Checked before the chunk is kept: memory never grows past the limit.
            guard produced <= limit - output.count else {
                throw DataError(path: path, reason: "refusing to inflate past \(limit) bytes (\(limitReason)): "
                                + "the gzip stream holds more (a corrupt file, or a gzip bomb)")
            }
            output.append(contentsOf: chunk[0..<produced])
        }
        unusedInput = Int(stream.avail_in)
    }
    switch status {
    case Z_STREAM_END where unusedInput == 0: return output
    case Z_STREAM_END: throw corrupt("\(unusedInput) unexpected bytes after the end of the compressed stream")
    case Z_BUF_ERROR: throw corrupt("the stream ends early (truncated file?) after \(output.count) inflated bytes")
    default:
        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        throw corrupt(message)
    }
}

/// The size in bytes, header included, of the IDX file that starts with
/// `start`; `nil` while `start` is too short to hold the whole header, and
/// `Int.max` if the size overflows. A wrong header throws its `DataError` now.
private func declaredIDXSize(_ start: [UInt8], path: String) throws -> Int? {
    guard start.count >= 4, start.count >= 4 + 4 * Int(start[3]) else { return nil }
    let shape = try parseIDXHeader(start, path: path)
    var size = 1
    for n in shape {
        let (product, overflow) = size.multipliedReportingOverflow(by: n)
        guard !overflow else { return .max }
        size = product
    }
    let (total, overflow) = size.addingReportingOverflow(4 + 4 * shape.count)
    return overflow ? .max : total
}

/// The uncompressed size a gzip trailer promises (its last 4 bytes, little-endian,
/// modulo 2³²), used only to reserve memory; capped so a lying file cannot
/// make us allocate gigabytes.
private func gzipSizeHint(_ compressed: [UInt8]) -> Int {
    guard compressed.count >= 4 else { return 0 }
    let size = compressed.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    return min(size, 64 * compressed.count)
}

// MARK: - The IDX layout

/// Reads the header, then returns the elements — if there are exactly as
/// many as the dimensions promise.
private func parseIDX(_ bytes: [UInt8], path: String) throws -> IDXArray {
    func fail(_ reason: String) -> DataError { DataError(path: path, reason: reason) }

    let shape = try parseIDXHeader(bytes, path: path)
    let headerSize = 4 + 4 * shape.count
    let (expected, overflow) = shape.reduce((1, false)) { acc, n in
        let (product, o) = acc.0.multipliedReportingOverflow(by: n)
        return (product, acc.1 || o)
    }
    guard !overflow else { throw fail("dimensions \(shape) are too large") }

    let found = bytes.count - headerSize
    guard found >= expected else {
        throw fail("truncated data: shape \(shape) needs \(expected) bytes, found \(found)")
    }
    guard found == expected else {
        throw fail("trailing garbage: \(found - expected) extra bytes after the \(expected) data bytes "
                   + "of shape \(shape)")
    }
    return IDXArray(shape: shape, bytes: Array(bytes[headerSize...]))
}

/// The shape an IDX file's header declares (lesson 10): checks the magic
/// (00 00), the element type (0x08, unsigned byte) and that the file is long
/// enough for `rank` dimensions, then reads each dimension as a big-endian
/// UInt32. The header is `4 + 4 · rank` bytes; the elements follow it.
///
/// Throws a `DataError` naming `path` and the problem: "truncated header",
/// "bad magic" or "unsupported element type".
public func parseIDXHeader(_ bytes: [UInt8], path: String) throws -> [Int] {
    func fail(_ reason: String) -> DataError { DataError(path: path, reason: reason) }
    // BEGIN EXERCISE 10.3 — read an IDX header: magic, type, rank, big-endian sizes (Lessons/10-data-training.md)
    fatalError("Exercise 10.3 is not done yet: read an IDX header: magic, type, rank, big-endian sizes — see Lessons/10-data-training.md")
    // END EXERCISE 10.3
}

/// The names the IDX format gives its type codes, for error messages.
private func idxTypeName(_ code: UInt8) -> String {
    switch code {
    case 0x09: "signed byte"
    case 0x0B: "16-bit integer"
    case 0x0C: "32-bit integer"
    case 0x0D: "32-bit float"
    case 0x0E: "64-bit float"
    default: "not an IDX type"
    }
}

/// A byte as two hex digits, e.g. 31 → "1f".
private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}
