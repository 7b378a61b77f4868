import Testing
import Kindling

@Suite struct Exercise_1_1 {
    @Test func productOfNegativesAndZero() {
        let a = Value(-1.5), b = Value(0)
        let c = a * b
        #expect(c.data == 0)
        #expect(c.localGrads == [0, -1.5])
        #expect(c.op == "*")
    }
}
