// ncursesw for Swift: wide-character API, and the function-like macros Swift cannot import
// wrapped as static inline functions.
#ifndef TALLY_CNCURSES_SHIM_H
#define TALLY_CNCURSES_SHIM_H

#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline int tally_color_pair(int pair) { return (int)COLOR_PAIR(pair); }
static inline int tally_a_bold(void) { return (int)A_BOLD; }
static inline int tally_a_reverse(void) { return (int)A_REVERSE; }
static inline int tally_a_dim(void) { return (int)A_DIM; }
static inline int tally_a_underline(void) { return (int)A_UNDERLINE; }
static inline int tally_lines(void) { return LINES; }
static inline int tally_columns(void) { return COLS; }
static inline WINDOW *tally_stdscr(void) { return stdscr; }
static inline int tally_key_code_yes(void) { return KEY_CODE_YES; }
static inline SCREEN *tally_newterm(void) { return newterm(NULL, stdout, stdin); }
static inline void tally_invalidate(void) { clearok(curscr, TRUE); }

#endif
