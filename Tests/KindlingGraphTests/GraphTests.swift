import Testing
@testable import KindlingGraph

@Test func graphModuleLoads() {
    #expect(Bool(true))
}
