using System.Xml;
using System.Xml.XPath;

namespace Valet.Server.RemoteApi;

/// <summary>Thrown when an <c>xpath=</c> evaluation used up its node visits or its client went away.</summary>
public sealed class XPathBudgetExceededException() : Exception("the xpath expression is too expensive");

/// <summary>
/// Counts every move of every navigator cloned from it against one shared budget, and stops the
/// evaluation when the budget is spent or the request is cancelled: XPath 1.0 lets 200 bytes of
/// nested predicates cost minutes of CPU, and the evaluator has no limit of its own.
/// </summary>
sealed class BudgetedNavigator : XPathNavigator
{
    readonly XPathNavigator inner;
    readonly Budget budget;

    public BudgetedNavigator(XPathNavigator inner, long visits, CancellationToken ct)
        : this(inner, new Budget(visits, ct)) { }

    BudgetedNavigator(XPathNavigator inner, Budget budget)
    {
        this.inner = inner;
        this.budget = budget;
    }

    sealed class Budget(long visits, CancellationToken ct)
    {
        long left = visits;

        public void Spend()
        {
            // Evaluation is single-threaded, so a plain decrement is enough.
            if (--left < 0 || ct.IsCancellationRequested)
                throw new XPathBudgetExceededException();
        }
    }

    bool Visit(bool moved)
    {
        budget.Spend();
        return moved;
    }

    public override object? UnderlyingObject => inner.UnderlyingObject;
    public override XmlNameTable NameTable => inner.NameTable;
    public override XPathNodeType NodeType => inner.NodeType;
    public override string LocalName => inner.LocalName;
    public override string Name => inner.Name;
    public override string NamespaceURI => inner.NamespaceURI;
    public override string Prefix => inner.Prefix;
    public override string BaseURI => inner.BaseURI;
    public override bool IsEmptyElement => inner.IsEmptyElement;

    public override string Value
    {
        get
        {
            budget.Spend();
            return inner.Value;
        }
    }

    public override XPathNavigator Clone()
    {
        budget.Spend();
        return new BudgetedNavigator(inner.Clone(), budget);
    }

    public override bool IsSamePosition(XPathNavigator other) =>
        other is BudgetedNavigator b && inner.IsSamePosition(b.inner);

    public override bool MoveTo(XPathNavigator other) =>
        other is BudgetedNavigator b && Visit(inner.MoveTo(b.inner));

    public override bool MoveToFirstAttribute() => Visit(inner.MoveToFirstAttribute());
    public override bool MoveToNextAttribute() => Visit(inner.MoveToNextAttribute());
    public override bool MoveToFirstNamespace(XPathNamespaceScope namespaceScope) => Visit(inner.MoveToFirstNamespace(namespaceScope));
    public override bool MoveToNextNamespace(XPathNamespaceScope namespaceScope) => Visit(inner.MoveToNextNamespace(namespaceScope));
    public override bool MoveToNext() => Visit(inner.MoveToNext());
    public override bool MoveToPrevious() => Visit(inner.MoveToPrevious());
    public override bool MoveToFirstChild() => Visit(inner.MoveToFirstChild());
    public override bool MoveToParent() => Visit(inner.MoveToParent());
    // LINQ to XML keeps no IDs (DTDs are prohibited), and its navigator throws where "no such ID" is meant.
    public override bool MoveToId(string id) => Visit(false);
    public override void MoveToRoot()
    {
        budget.Spend();
        inner.MoveToRoot();
    }

    public override XmlNodeOrder ComparePosition(XPathNavigator? nav) =>
        nav is BudgetedNavigator b ? inner.ComparePosition(b.inner) : XmlNodeOrder.Unknown;

    public override bool IsDescendant(XPathNavigator? nav) =>
        nav is BudgetedNavigator b && inner.IsDescendant(b.inner);
}
