import Testing
@testable import LatheJinja

@Test func rendersText() throws {
    #expect(try Template("hi").render([:]) == "hi")
}
