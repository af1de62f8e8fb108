package qliktest_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rowID is the form of a row ID in docs/qlik-rules.md: a letter for the
// variant (Q, C, S), a topic, a number.
var rowID = regexp.MustCompile(`^[A-Z]-[A-Z0-9]+-[0-9]+$`)

// docRows reads the tables of docs/qlik-rules.md: row ID -> its Test column
// ("both", "emulator" or "-"). A table row is a line starting with "|"
// whose first cell is a row ID; header and separator lines are skipped.
func docRows(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../docs/qlik-rules.md")
	require.NoError(t, err)
	defer f.Close()
	rows := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		id := strings.TrimSpace(cells[0])
		if !rowID.MatchString(id) {
			continue
		}
		require.Len(t, cells, 5, "row %s: ID | Rule | When broken | Source | Test (a | inside a cell breaks the table)", id)
		_, seen := rows[id]
		require.False(t, seen, "row ID %s is given twice", id)
		test := strings.TrimSpace(cells[4])
		require.Contains(t, []string{"both", "emulator", "-"}, test, "row %s: the Test column", id)
		rows[id] = test
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, "no rows found: did the table layout change?")
	return rows
}

// TestRulesMatchTheDoc keeps docs/qlik-rules.md and the table tests one
// statement: every ID a test uses is a row of the doc with the matching Test
// column, and every row the doc marks as checked has a test.
func TestRulesMatchTheDoc(t *testing.T) {
	doc := docRows(t)
	tested := map[string]string{}
	for _, r := range rules() {
		tested[r.id] = "both"
	}
	for _, b := range builderRules() {
		tested[b.id] = "both"
	}
	for id := range emulatorRules {
		require.NotContains(t, tested, id, "%s is both a table row and an emulator-only row", id)
		tested[id] = "emulator"
	}
	for id, how := range tested {
		if assert.Contains(t, doc, id, "the test uses %s, which docs/qlik-rules.md does not have", id) {
			assert.Equal(t, doc[id], how, "row %s: the doc's Test column says %q, the test checks it as %q", id, doc[id], how)
		}
	}
	for id, how := range doc {
		if how != "-" {
			assert.Contains(t, tested, id, "docs/qlik-rules.md marks %s as checked (%s), but no test row has it", id, how)
		}
	}
}
