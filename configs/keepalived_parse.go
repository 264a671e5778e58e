package configs

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// kaNode is one keepalived.conf statement: a keyword, its arguments and,
// for blocks, the statements inside the braces.
type kaNode struct {
	Key      string
	Args     []string
	Children []*kaNode
	Block    bool
	Line     int
}

type kaToken struct {
	text string
	line int
	nl   bool // end of line
}

// kaTokenize splits keepalived.conf into tokens: words (double quotes group
// words), "{", "}" and end-of-line markers. "#" and "!" start comments.
func kaTokenize(r io.Reader) ([]kaToken, error) {
	var toks []kaToken
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		var cur strings.Builder
		inWord, inQuote := false, false
		flush := func() {
			if inWord {
				toks = append(toks, kaToken{text: cur.String(), line: line})
				cur.Reset()
				inWord = false
			}
		}
	scan:
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case inQuote:
				if c == '"' {
					inQuote = false
				} else {
					cur.WriteByte(c)
				}
			case c == '"':
				inQuote, inWord = true, true
			case (c == '#' || c == '!') && !inWord:
				break scan
			case c == ' ' || c == '\t' || c == '\r':
				flush()
			case c == '{' || c == '}':
				flush()
				toks = append(toks, kaToken{text: string(c), line: line})
			default:
				cur.WriteByte(c)
				inWord = true
			}
		}
		if inQuote {
			return nil, fmt.Errorf("keepalived: line %d: unterminated quote", line)
		}
		flush()
		toks = append(toks, kaToken{nl: true, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keepalived: read: %w", err)
	}
	return toks, nil
}

// kaParse builds the statement tree. A "{" may end a statement's line or
// stand alone on the next line.
func kaParse(toks []kaToken) ([]*kaNode, error) {
	p := &kaParser{toks: toks}
	nodes, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("keepalived: line %d: unexpected }", p.toks[p.pos].line)
	}
	return nodes, nil
}

type kaParser struct {
	toks []kaToken
	pos  int
}

func (p *kaParser) block(depth int) ([]*kaNode, error) {
	if depth > 32 {
		return nil, fmt.Errorf("keepalived: nesting deeper than 32")
	}
	var nodes []*kaNode
	var last *kaNode // the previous statement, for a "{" on its own line
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		switch {
		case t.nl:
			p.pos++
		case t.text == "}":
			if depth == 0 {
				return nil, fmt.Errorf("keepalived: line %d: unexpected }", t.line)
			}
			p.pos++
			return nodes, nil
		case t.text == "{":
			p.pos++
			children, err := p.block(depth + 1)
			if err != nil {
				return nil, err
			}
			if last == nil || last.Block {
				// An anonymous block: keep its statements at this level.
				nodes = append(nodes, children...)
				continue
			}
			last.Block, last.Children = true, children
		default:
			n := &kaNode{Key: t.text, Line: t.line}
			p.pos++
			for p.pos < len(p.toks) {
				a := p.toks[p.pos]
				if a.nl || a.text == "{" || a.text == "}" {
					break
				}
				n.Args = append(n.Args, a.text)
				p.pos++
			}
			nodes = append(nodes, n)
			last = n
			if p.pos < len(p.toks) && p.toks[p.pos].text == "{" {
				p.pos++
				children, err := p.block(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Block, n.Children = true, children
			}
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("keepalived: missing } at end of file")
	}
	return nodes, nil
}
