// Checking where a file will go before the work that makes it: a training run
// that fails at the end because its folder does not exist has wasted the run.

import Foundation

/// Why a file cannot be written where it was asked to go.
public struct DestinationError: Error, CustomStringConvertible {
    /// The path that was asked for.
    public let path: String
    /// What is wrong with it, in words.
    public let reason: String

    /// "path: reason".
    public var description: String { "\(path): \(reason)" }
}

/// Throws a `DestinationError` unless a file can be created at `path` now:
/// its folder exists and accepts a new file, and `path` is not a folder.
/// The check writes and removes an empty probe file beside `path`; it
/// leaves `path` itself untouched.
public func checkWritable(_ path: String) throws {
    func fail(_ reason: String) -> DestinationError { DestinationError(path: path, reason: reason) }
    guard !path.isEmpty else { throw fail("an empty path") }
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    if manager.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw fail("is a folder; give a file name inside it")
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    guard manager.fileExists(atPath: folder, isDirectory: &isFolder) else {
        throw fail("the folder \(folder) does not exist")
    }
    guard isFolder.boolValue else { throw fail("\(folder) is not a folder") }
    let probe = (folder as NSString).appendingPathComponent(".kindling-write-check-\(UUID().uuidString)")
    guard manager.createFile(atPath: probe, contents: Data()) else {
        throw fail("cannot create files in \(folder) (\(String(cString: strerror(errno))))")
    }
    try? manager.removeItem(atPath: probe)
}

/// Throws a `DestinationError` unless `folder` exists or can be created, and
/// accepts new files. Creates it (and its parents) when missing.
public func prepareFolder(_ folder: String) throws {
    func fail(_ reason: String) -> DestinationError { DestinationError(path: folder, reason: reason) }
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw fail("cannot create this folder (\(error.localizedDescription))")
    }
    try checkWritable((folder as NSString).appendingPathComponent("index.html"))
}
