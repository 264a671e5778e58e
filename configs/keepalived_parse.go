package configs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file reproduces keepalived's configuration reader (lib/parser.c of
// acassen/keepalived, read at 9cbce3e2): comments, quoting, include,
// $NAME definitions and @config-id lines. Line references below are to
// that file unless another is named.

// KeepalivedOptions controls how a keepalived.conf is read.
type KeepalivedOptions struct {
	// ConfigID selects the "@ID" conditional lines (keepalived -i /
	// --config-id, whose default is the host name without domain). Empty:
	// a file with @ lines is refused, since the result would depend on
	// the host the migration runs on.
	ConfigID string
	// ReadFile reads included files; nil: os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Glob expands include patterns; nil: filepath.Glob (with keepalived's
	// {a,b} brace expansion done first).
	Glob func(pattern string) ([]string, error)
	// ScriptCheck, when set, is asked whether a track script can run on
	// the target host (argv as keepalived would exec it, the user it runs
	// as, and whether enable_script_security is on). keepalived drops a
	// script that is missing or insecure from tracking (logged), where vipd
	// would count it as failed: the converter drops it too, with a warning.
	ScriptCheck func(argv []string, user string, security bool) error
}

// kaPos is where a statement comes from: the file ("" for the main file)
// and the line.
type kaPos struct {
	file string
	line int
}

func (p kaPos) String() string {
	if p.file == "" {
		return fmt.Sprintf("line %d", p.line)
	}
	return fmt.Sprintf("%s line %d", p.file, p.line)
}

// kaNode is one keepalived.conf statement: a keyword, its arguments and,
// for blocks, the statements inside the braces.
type kaNode struct {
	Key      string
	Args     []string
	Children []*kaNode
	Block    bool
	Pos      kaPos
	// Raw is the statement's text (after comments, @ and $ processing),
	// which script keywords re-split with quotes and escapes as keepalived
	// does (notify.c notify_script_init → alloc_strvec_quoted).
	Raw string
}

// kaSegment is one read_line result: a "{", a "}" or the words of a
// statement.
type kaSegment struct {
	text  string // raw text (for Raw)
	words []string
	pos   kaPos
}

const (
	kaMaxIncludeDepth = 32
	kaMaxExpansions   = 100
	kaMaxLines        = 1 << 20
	kaMaxBytes        = 16 << 20 // of statements after substitution
)

// kaDef is a $NAME=value definition; a multi-line one ends its first
// lines with "\" (check_definition, parser.c:2169).
type kaDef struct {
	lines []string
}

type kaReader struct {
	opts     KeepalivedOptions
	defs     map[string]*kaDef
	segs     []kaSegment
	warnings []string
	depth    int
	nlines   int
	nbytes   int
}

func (r *kaReader) warn(pos kaPos, format string, args ...any) {
	r.warnings = append(r.warnings, pos.String()+": "+fmt.Sprintf(format, args...))
}

func kaErr(pos kaPos, format string, args ...any) error {
	return fmt.Errorf("keepalived: %s: %s", pos, fmt.Sprintf(format, args...))
}

// kaRead reads the main file (name "" for a stream; dir is where relative
// includes are looked up) into statement segments.
func kaRead(data []byte, name, dir string, opts KeepalivedOptions) ([]kaSegment, []string, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	if opts.Glob == nil {
		opts.Glob = kaGlob
	}
	r := &kaReader{opts: opts, defs: map[string]*kaDef{}}
	if err := r.file(data, name, dir); err != nil {
		return nil, r.warnings, err
	}
	return r.segs, r.warnings, nil
}

// file processes one file. Definitions stay in force across includes, as
// in keepalived (one global defs list, parser.c:240).
func (r *kaReader) file(data []byte, name, dir string) error {
	lines := strings.Split(string(data), "\n")
	var mdef *kaDef // a multi-line definition being read
	for i, raw := range lines {
		pos := kaPos{file: name, line: i + 1}
		r.nlines++
		if r.nlines > kaMaxLines {
			return kaErr(pos, "more than %d lines", kaMaxLines)
		}
		if !utf8.ValidString(raw) {
			return kaErr(pos, "not valid UTF-8: vipd's YAML cannot carry these bytes")
		}
		if strings.IndexByte(raw, 0) >= 0 {
			// parser.c:2839: "configuration appears to have embedded NULs - ignoring line".
			r.warn(pos, "NUL byte: line ignored (as keepalived does)")
			continue
		}
		raw = strings.TrimRight(raw, "\r")
		text, cont, err := kaDecomment(raw)
		if err != nil {
			return kaErr(pos, "%v", err)
		}
		if mdef != nil {
			// parser.c:2874: lines of a multi-line definition; a blank one
			// or one without a trailing "\" ends it.
			if text != "" {
				mdef.lines = append(mdef.lines, text)
			}
			if !cont || text == "" {
				mdef = nil
			}
			continue
		}
		if text == "" {
			continue
		}
		if err := r.line(text, cont, pos, dir, &mdef); err != nil {
			return err
		}
	}
	return nil
}

// line handles one decommented, non-empty line (read_line, parser.c:2905).
func (r *kaReader) line(text string, cont bool, pos kaPos, dir string, mdef **kaDef) error {
	if text[0] == '@' {
		// parser.c:2907: "@ID rest" keeps rest when ID is the config id,
		// "@^ID rest" when it is not.
		rev := strings.HasPrefix(text, "@^")
		id := strings.TrimPrefix(strings.TrimPrefix(text, "@^"), "@")
		sp := strings.IndexAny(id, " \t")
		if sp < 0 {
			return nil // nothing after the id: the line is dropped
		}
		if r.opts.ConfigID == "" {
			return kaErr(pos, "%q is a conditional line: give the config id (vipd migrate --config-id ID, keepalived -i; keepalived's default is the host name)", text)
		}
		if (id[:sp] == r.opts.ConfigID) == rev {
			return nil
		}
		text = strings.TrimLeft(id[sp:], " \t")
	}
	if text[0] == '$' {
		if name, val, ok := kaDefinition(text); ok {
			d := &kaDef{}
			if cont {
				// parser.c:2215: a trailing "\" makes it multi-line.
				if v := strings.TrimRight(val, " \t"); v != "" {
					d.lines = append(d.lines, v)
				}
				*mdef = d
			} else {
				d.lines = []string{val}
			}
			r.defs[name] = d
			return nil
		}
	}
	if cont {
		// keepalived continues only $definitions (decomment keeps the "\"
		// otherwise, and it becomes a word of its own).
		return kaErr(pos, "a line ending in \\ continues only a $NAME= definition in keepalived; join the line")
	}
	if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
		return kaErr(pos, "%s: not supported by vipd migrate; expand it by hand", text[:4])
	}
	if text[0] == '~' {
		return nil // parser.c:2945: other "~" lines are skipped
	}
	lines := []string{text}
	if strings.Contains(text, "$") { // keepalived's std definitions (_PWD, _HASH, …) are always defined
		var err error
		lines, err = r.substitute(text, pos)
		if err != nil {
			return err
		}
	}
	for _, l := range lines {
		if l == "" {
			continue
		}
		if r.nbytes += len(l); r.nbytes > kaMaxBytes {
			return kaErr(pos, "the configuration grows beyond %d MiB with its $ substitutions", kaMaxBytes>>20)
		}
		if inc, pat, ok := kaInclude(l); ok {
			if err := r.include(inc, pat, pos, dir); err != nil {
				return err
			}
			continue
		}
		if err := r.split(l, pos); err != nil {
			return err
		}
	}
	return nil
}

// kaDefinition recognises "$NAME=value" (check_definition, parser.c:2169):
// NAME starts with a letter or "_", then letters, digits, "_"; blanks may
// precede the "=" and follow it.
func kaDefinition(s string) (name, val string, ok bool) {
	if len(s) < 2 || s[0] != '$' || !(kaAlpha(s[1]) || s[1] == '_') {
		return "", "", false
	}
	i := 2
	for i < len(s) && s[i] != '=' {
		if !kaAlnum(s[i]) && s[i] != '_' {
			break
		}
		i++
	}
	name = s[1:i]
	rest := strings.TrimLeft(s[i:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", "", false
	}
	return name, strings.TrimLeft(rest[1:], " \t"), true
}

func kaAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func kaAlnum(c byte) bool { return kaAlpha(c) || c >= '0' && c <= '9' }

// substitute replaces $NAME and ${NAME} (replace_param, parser.c:2021). A
// bare $NAME must be followed by a blank, ",", ")" or the end of line; an
// unknown name is left as is. The replaced text is scanned again (keepalived
// does not advance past it). A multi-line definition used at the end of a
// line gives several lines; the text is decommented again afterwards
// (parser.c:2959).
func (r *kaReader) substitute(text string, pos kaPos) ([]string, error) {
	for _, std := range []string{"_INSTANCE", "_RANDOM", "_ENV"} {
		// With or without parameters (${_RANDOM 1 6}, ${_ENV HOME}).
		if _, user := r.defs[std]; !user && (strings.Contains(text, "${"+std) || strings.Contains(text, "$"+std)) {
			return nil, kaErr(pos, "${%s} depends on the host keepalived runs on; replace it by its value", std)
		}
	}
	var extra []string
	n := 0
	changed := false
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '$')
		if j < 0 {
			break
		}
		i += j
		name, end, braces, ok := kaRefAt(text, i)
		if !ok {
			i++
			continue
		}
		var val []string
		switch name {
		case "_HASH":
			val = []string{"#"}
		case "_BANG":
			val = []string{"!"}
		case "_PWD":
			val = []string{pos.dir()}
		case "_INSTANCE", "_RANDOM", "_ENV":
			if _, user := r.defs[name]; !user {
				return nil, kaErr(pos, "${%s} depends on the host keepalived runs on; replace it by its value", name)
			}
		}
		if d, ok := r.defs[name]; ok {
			val = d.lines
			if len(val) > 1 && end != len(text) {
				// find_definition: a multi-line definition only at the end.
				i++
				continue
			}
		}
		if val == nil {
			i++
			continue
		}
		if n++; n > kaMaxExpansions {
			return nil, kaErr(pos, "more than %d $ substitutions (a definition that refers to itself?)", kaMaxExpansions)
		}
		_ = braces
		first := ""
		if len(val) > 0 {
			first = val[0]
		}
		text = text[:i] + first + text[end:]
		if len(val) > 1 {
			extra = append(val[1:len(val):len(val)], extra...)
		}
		changed = true
	}
	if !changed {
		return []string{text}, nil
	}
	out := make([]string, 0, 1+len(extra))
	for _, l := range append([]string{text}, extra...) {
		d, _, err := kaDecomment(l)
		if err != nil {
			return nil, kaErr(pos, "%v", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// dir is the directory of the file (for ${_PWD}).
func (p kaPos) dir() string {
	if p.file == "" {
		if wd, err := os.Getwd(); err == nil {
			return wd
		}
		return "."
	}
	d, _ := filepath.Abs(filepath.Dir(p.file))
	return d
}

// kaRefAt parses a reference at text[i] == '$': "$NAME" followed by a blank,
// ",", ")" or the end, or "${NAME}" (find_definition, parser.c:1886;
// parameters inside the braces are not supported).
func kaRefAt(text string, i int) (name string, end int, braces, ok bool) {
	j := i + 1
	if j < len(text) && text[j] == '{' {
		braces = true
		j++
	}
	k := j
	if k >= len(text) || !(kaAlpha(text[k]) || text[k] == '_') {
		return "", 0, false, false
	}
	for k < len(text) && (kaAlnum(text[k]) || text[k] == '_') {
		k++
	}
	name = text[j:k]
	if braces {
		if k < len(text) && text[k] == '}' {
			return name, k + 1, true, true
		}
		return "", 0, false, false
	}
	if k == len(text) || strings.IndexByte(" \t,)", text[k]) >= 0 {
		return name, k, false, true
	}
	return "", 0, false, false
}

// kaInclude recognises "include PATTERN" and keepalived's variants
// includer/includem/includew/includeb/includea (is_include, parser.c:2566).
func kaInclude(s string) (kind, pattern string, ok bool) {
	if !strings.HasPrefix(s, "include") || len(s) < 8 {
		return "", "", false
	}
	rest := s[7:]
	switch {
	case rest[0] == ' ' || rest[0] == '\t':
	case len(rest) > 1 && strings.IndexByte("rmwba", rest[0]) >= 0 && (rest[1] == ' ' || rest[1] == '\t'):
		kind, rest = rest[:1], rest[1:]
	default:
		return "", "", false
	}
	return kind, strings.TrimLeft(rest, " \t"), true
}

// include reads the files an include pattern matches, in glob order. As
// keepalived chdir()s to the directory of each file it opens
// (open_conf_file, parser.c:2446), a relative pattern is relative to the
// including file. Missing files are skipped with a warning, as keepalived
// does for a plain include (open_and_check_glob, parser.c:1790).
func (r *kaReader) include(kind, pattern string, pos kaPos, dir string) error {
	if r.depth >= kaMaxIncludeDepth {
		return kaErr(pos, "includes nested deeper than %d", kaMaxIncludeDepth)
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(dir, pattern)
	}
	files, err := r.opts.Glob(pattern)
	if err != nil {
		return kaErr(pos, "include %s: %v", pattern, err)
	}
	if len(files) == 0 {
		if kind != "" {
			// includer/m/w/b/a make missing files an error in keepalived.
			return kaErr(pos, "include%s %s: no such file", kind, pattern)
		}
		r.warn(pos, "include %s: no file matches (keepalived skips it too)", pattern)
		return nil
	}
	for _, f := range files {
		data, err := r.opts.ReadFile(f)
		if err != nil {
			if kind != "" {
				return kaErr(pos, "include %s: %v", f, err)
			}
			r.warn(pos, "include %s: %v (skipped, as keepalived does)", f, err)
			continue
		}
		r.depth++
		err = r.file(data, f, filepath.Dir(f))
		r.depth--
		if err != nil {
			return err
		}
	}
	return nil
}

// kaGlob is glob(3) with GLOB_BRACE as keepalived calls it
// (open_and_check_glob, parser.c:1775): {a,b} alternatives are expanded
// first, then each pattern is matched; the results are sorted per pattern.
func kaGlob(pattern string) ([]string, error) {
	var out []string
	for _, p := range kaBraces(pattern, 0) {
		if !strings.ContainsAny(p, "*?[") {
			if _, err := os.Stat(p); err == nil {
				out = append(out, p)
			}
			continue
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

// kaBraces expands the first {a,b,...} group (recursively).
func kaBraces(p string, depth int) []string {
	i := strings.IndexByte(p, '{')
	if i < 0 || depth > 8 {
		return []string{p}
	}
	lvl := 0
	var parts []string
	start := i + 1
	for j := i; j < len(p); j++ {
		switch p[j] {
		case '{':
			lvl++
		case '}':
			lvl--
			if lvl == 0 {
				parts = append(parts, p[start:j])
				var out []string
				for _, alt := range parts {
					out = append(out, kaBraces(p[:i]+alt+p[j+1:], depth+1)...)
				}
				return out
			}
		case ',':
			if lvl == 1 {
				parts = append(parts, p[start:j])
				start = j + 1
			}
		}
	}
	return []string{p}
}

// kaDecomment is decomment() (parser.c:2298): leading blanks go; outside
// double quotes "#" or "!" ends the line, also in the middle of a word, and
// "\#", "\!" stand for the characters; a "\" at the very end marks a
// continuation (cont); trailing blanks go.
func kaDecomment(s string) (string, bool, error) {
	s = strings.TrimLeft(s, " \t")
	var b strings.Builder
	quote, cont := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quote = !quote
		case c == '\\':
			if i+1 == len(s) {
				cont = true
				i = len(s)
				continue
			}
			if !quote && (s[i+1] == '#' || s[i+1] == '!') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		case !quote && (c == '#' || c == '!'):
			i = len(s)
			continue
		}
		b.WriteByte(c)
	}
	if quote {
		return "", false, fmt.Errorf("unterminated quote in %q", s)
	}
	return strings.TrimRight(b.String(), " \t"), cont, nil
}

// split cuts a line at "{" and "}" outside double quotes (read_line,
// parser.c:2965) and splits each piece into words (alloc_strvec_r,
// parser.c:1244): words are separated by blanks; a word that starts with a
// double quote runs to the next one (quotes removed), any other word ends
// at a blank or a double quote.
func (r *kaReader) split(line string, pos kaPos) error {
	for line != "" {
		i := 0
		quote := false
		for ; i < len(line); i++ {
			if line[i] == '"' {
				quote = !quote
			} else if !quote && (line[i] == '{' || line[i] == '}') {
				break
			}
		}
		if i > 0 {
			piece := strings.TrimSpace(line[:i])
			if piece != "" {
				words, err := kaWords(piece)
				if err != nil {
					return kaErr(pos, "%v", err)
				}
				r.segs = append(r.segs, kaSegment{text: piece, words: words, pos: pos})
			}
		}
		if i < len(line) {
			r.segs = append(r.segs, kaSegment{text: line[i : i+1], words: []string{line[i : i+1]}, pos: pos})
			i++
		}
		line = strings.TrimLeft(line[i:], kaWhite)
	}
	return nil
}

const kaWhite = " \t\f\n\r\v"

func kaWords(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, kaWhite)
		if s == "" {
			return out, nil
		}
		if s[0] == '"' {
			j := strings.IndexByte(s[1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unmatched quote: %q", s)
			}
			out = append(out, s[1:1+j])
			s = s[2+j:]
			continue
		}
		j := strings.IndexAny(s, kaWhite+`"`)
		if j < 0 {
			j = len(s)
		}
		out = append(out, s[:j])
		s = s[j:]
	}
}

// kaSplitQuoted is alloc_strvec_quoted_escaped_common (parser.c:1071):
// words separated by blanks; single and double quotes group (removed);
// with escapes, "\n", "\t", "\xHH", "\NNN" (octal) … are decoded and
// "\c" gives c; without, the "\" and the character are kept.
func kaSplitQuoted(s string, escapes bool) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(kaWhite, s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		var w []byte
		var q byte
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				i++
				if i >= len(s) {
					return nil, errors.New("missing escaped character at end")
				}
				if !escapes {
					w = append(w, '\\', s[i])
					i++
					continue
				}
				var ch byte
				ch, i = kaEscape(s, i)
				w = append(w, ch)
				continue
			case q != 0:
				if c == q {
					q = 0
				} else {
					w = append(w, c)
				}
				i++
				continue
			case c == '"' || c == '\'':
				q = c
				i++
				continue
			case strings.IndexByte(kaWhite, c) >= 0:
			default:
				w = append(w, c)
				i++
				continue
			}
			break
		}
		if q != 0 {
			return nil, fmt.Errorf("missing terminating %c in %q", q, s)
		}
		out = append(out, string(w))
	}
}

// kaEscape decodes the escape at s[i] (after the "\").
func kaEscape(s string, i int) (byte, int) {
	c := s[i]
	hex := func(b byte) (byte, bool) {
		switch {
		case b >= '0' && b <= '9':
			return b - '0', true
		case b >= 'a' && b <= 'f':
			return b - 'a' + 10, true
		case b >= 'A' && b <= 'F':
			return b - 'A' + 10, true
		}
		return 0, false
	}
	switch {
	case c == 'x' && i+1 < len(s):
		if _, ok := hex(s[i+1]); ok {
			var v byte
			i++
			for n := 0; n < 2 && i < len(s); n++ {
				h, ok := hex(s[i])
				if !ok {
					break
				}
				v = v<<4 | h
				i++
			}
			return v, i
		}
	case c == 'c' && i+1 < len(s):
		return s[i+1] & 0x1f, i + 2
	case c >= '0' && c <= '7':
		v := c - '0'
		i++
		for n := 0; n < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; n++ {
			v = v<<3 + (s[i] - '0')
			i++
		}
		return v, i
	}
	m := map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}
	if e, ok := m[c]; ok {
		return e, i + 1
	}
	return c, i + 1
}

// kaParse builds the statement tree. A "{" may end a statement's line or
// stand alone on the next line (process_stream, parser.c:3100: bob_needed).
func kaParse(segs []kaSegment) ([]*kaNode, error) {
	p := &kaParser{segs: segs}
	nodes, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.segs) {
		return nil, kaErr(p.segs[p.pos].pos, "unexpected }")
	}
	return nodes, nil
}

type kaParser struct {
	segs []kaSegment
	pos  int
}

func (p *kaParser) block(depth int) ([]*kaNode, error) {
	if depth > 32 {
		return nil, errors.New("keepalived: nesting deeper than 32")
	}
	var nodes []*kaNode
	var last *kaNode // the previous statement, for a "{" on its own line
	for p.pos < len(p.segs) {
		s := p.segs[p.pos]
		switch s.text {
		case "}":
			if depth == 0 {
				return nil, kaErr(s.pos, "unexpected }")
			}
			p.pos++
			return nodes, nil
		case "{":
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
			n := &kaNode{Key: s.words[0], Args: s.words[1:], Pos: s.pos, Raw: s.text}
			p.pos++
			nodes = append(nodes, n)
			last = n
		}
	}
	if depth > 0 {
		return nil, errors.New("keepalived: missing } at end of file")
	}
	return nodes, nil
}

// kaScriptArgv is how keepalived turns a script keyword into what it execs
// (notify_script_init and set_script_params_array, core/notify.c:1191): the
// statement is re-split with quotes kept together, the second word is the
// command line, split again with escapes into argv; a third and fourth
// word are the user and group.
func kaScriptArgv(n *kaNode) (argv []string, user, group string, err error) {
	words, err := kaSplitQuoted(n.Raw, false)
	if err != nil {
		return nil, "", "", err
	}
	if len(words) < 2 {
		return nil, "", "", errors.New("no command")
	}
	argv, err = kaSplitQuoted(words[1], true)
	if err != nil {
		return nil, "", "", err
	}
	if len(argv) == 0 {
		return nil, "", "", errors.New("no command")
	}
	if len(words) > 2 {
		user = words[2]
	}
	if len(words) > 3 {
		group = words[3]
	}
	return argv, user, group, nil
}

// shellQuote writes argv as a /bin/sh command line that runs exactly argv
// (vipd runs commands through sh -c; keepalived execs argv directly).
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r))
		}) && !(i == 0 && strings.Contains(a, "=")) {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// hasControl reports bytes YAML cannot carry readably (kept, but noted).
func hasControl(s string) bool {
	return slices.ContainsFunc([]byte(s), func(b byte) bool { return b < 0x20 && b != '\t' }) || bytes.ContainsRune([]byte(s), 0x7f)
}
