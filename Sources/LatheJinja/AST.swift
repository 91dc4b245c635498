/// An expression node; `offset` is the byte offset of its first token, for error positions.
indirect enum Expr {
    case literal(TemplateValue, offset: Int)
    case name(String, offset: Int)
    case list([Expr], offset: Int)
    case tuple([Expr], offset: Int)
    case dict([(Expr, Expr)], offset: Int)
    case attribute(Expr, String, offset: Int)
    case item(Expr, Expr, offset: Int)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?, offset: Int)
    case call(Expr, args: [Expr], kwargs: [(String, Expr)], offset: Int)
    case filter(Expr, name: String, args: [Expr], kwargs: [(String, Expr)], offset: Int)
    case test(Expr, name: String, args: [Expr], negated: Bool, offset: Int)
    case unary(String, Expr, offset: Int)
    case binary(String, Expr, Expr, offset: Int)
    case compare(Expr, [(String, Expr)], offset: Int)
    case and(Expr, Expr, offset: Int)
    case or(Expr, Expr, offset: Int)
    case not(Expr, offset: Int)
    case conditional(Expr, test: Expr, otherwise: Expr?, offset: Int)

    var offset: Int {
        switch self {
        case .literal(_, let o), .name(_, let o), .list(_, let o), .tuple(_, let o), .dict(_, let o), .attribute(_, _, let o),
             .item(_, _, let o), .slice(_, _, _, _, let o), .call(_, _, _, let o), .filter(_, _, _, _, let o),
             .test(_, _, _, _, let o), .unary(_, _, let o), .binary(_, _, _, let o), .compare(_, _, let o),
             .and(_, _, let o), .or(_, _, let o), .not(_, let o), .conditional(_, _, _, let o):
            return o
        }
    }
}

/// Where `{% set %}` and `{% for %}` store values.
enum AssignTarget {
    case name(String)
    case names([String])
    case attribute(namespace: String, attribute: String)
}

/// A statement node of the template body.
indirect enum Node {
    case text(String)
    case output(Expr)
    case ifChain([(Expr, [Node])], otherwise: [Node])
    case forLoop(target: AssignTarget, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], offset: Int)
    case set(AssignTarget, Expr, offset: Int)
    case setBlock(AssignTarget, body: [Node], offset: Int)
    case macro(TemplateMacro)
    case callBlock(Expr, body: [Node], offset: Int)
    case generation([Node])
    case filterBlock(name: String, args: [Expr], body: [Node], offset: Int)
    case breakLoop(offset: Int)
    case continueLoop(offset: Int)
}
