package commands

import (
	"math/rand/v2"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// Expected replies below were taken from redis-server 7.0.15 over the same
// command sequences (deadline tests excepted: they move the fake clock).

type step struct{ cmd, want string }

func runSteps(t *testing.T, x *tester, steps []step) {
	t.Helper()
	for _, s := range steps {
		x.expect(s.cmd, s.want)
	}
}

func TestStringsSet(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"SET foo bar", "+OK\r\n"},
		{"SET foo baz GET", "$3\r\nbar\r\n"},
		{"SET nokey v GET", "$-1\r\n"},
		{"SET foo x NX", "$-1\r\n"},
		{"SET foo x NX GET", "$3\r\nbaz\r\n"},
		{"SET new x XX", "$-1\r\n"},
		{"SET new x XX GET", "$-1\r\n"},
		{"SET foo y XX", "+OK\r\n"},
		{"GET foo", "$1\r\ny\r\n"},
		{"SET foo z NX XX", "-ERR syntax error\r\n"},
		{"SET foo z EX 10 PX 10", "-ERR syntax error\r\n"},
		{"SET foo z EX 10 EX 20", "+OK\r\n"},
		{"SET foo z KEEPTTL EX 10", "-ERR syntax error\r\n"},
		{"SET foo z PERSIST", "-ERR syntax error\r\n"},
		{"SET foo z EX", "-ERR syntax error\r\n"},
		{"SET foo z EX 0", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET foo z PXAT -5", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET foo z EX abc", "-ERR value is not an integer or out of range\r\n"},
		{"SET foo z EX 9223372036854775", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET foo z PX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET bin \"a\\x00b\\r\\n\\xff\"", "+OK\r\n"},
		{"GET bin", "$6\r\na\x00b\r\n\xff\r\n"},
		{"SET empty \"\"", "+OK\r\n"},
		{"GET empty", "$0\r\n\r\n"},
		{"SETNX nx v1", ":1\r\n"},
		{"SETNX nx v2", ":0\r\n"},
		{"GET nx", "$2\r\nv1\r\n"},
		{"SETEX se 0 v", "-ERR invalid expire time in 'setex' command\r\n"},
		{"SETEX se -1 v", "-ERR invalid expire time in 'setex' command\r\n"},
		{"SETEX se x v", "-ERR value is not an integer or out of range\r\n"},
		{"SETEX se 9223372036854775807 v", "-ERR invalid expire time in 'setex' command\r\n"},
		{"PSETEX pse 0 v", "-ERR invalid expire time in 'psetex' command\r\n"},
		{"PSETEX pse 9223372036854775807 v", "-ERR invalid expire time in 'psetex' command\r\n"},
		{"GETSET gs a", "$-1\r\n"},
		{"GETSET gs b", "$1\r\na\r\n"},
		{"GET gs", "$1\r\nb\r\n"},
		{"SETNX a", "-ERR wrong number of arguments for 'setnx' command\r\n"},
		{"SETEX a 1", "-ERR wrong number of arguments for 'setex' command\r\n"},
		{"GETSET a", "-ERR wrong number of arguments for 'getset' command\r\n"},
	})
}

func TestStringsMultiGetDelGetEx(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"MSET m1 a m2 b m3 \"\"", "+OK\r\n"},
		{"MGET m1 m2 m3 nosuch m1", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$0\r\n\r\n$-1\r\n$1\r\na\r\n"},
		{"MSET m1", "-ERR wrong number of arguments for 'mset' command\r\n"},
		{"MSET m1 a m2", "-ERR wrong number of arguments for 'mset' command\r\n"},
		{"MSET m1 x m1 y", "+OK\r\n"},
		{"GET m1", "$1\r\ny\r\n"},
		{"MSETNX n1 a n2 b", ":1\r\n"},
		{"MSETNX n2 c n3 d", ":0\r\n"},
		{"GET n3", "$-1\r\n"},
		{"MSETNX n4 a n4 b", ":1\r\n"},
		{"GET n4", "$1\r\nb\r\n"},
		{"MSETNX n5 a n6", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
		{"MGET", "-ERR wrong number of arguments for 'mget' command\r\n"},
		{"GETDEL m2", "$1\r\nb\r\n"},
		{"GETDEL m2", "$-1\r\n"},
		{"GET m2", "$-1\r\n"},
		{"GETEX m1", "$1\r\ny\r\n"},
		{"GETEX m1 PERSIST EX 10", "-ERR syntax error\r\n"},
		{"GETEX m1 EX 10 PXAT 10", "-ERR syntax error\r\n"},
		{"GETEX m1 KEEPTTL", "-ERR syntax error\r\n"},
		{"GETEX m1 NX", "-ERR syntax error\r\n"},
		{"GETEX m1 EX", "-ERR syntax error\r\n"},
		{"GETEX m1 EX abc", "-ERR value is not an integer or out of range\r\n"},
		{"GETEX m1 EX 0", "-ERR invalid expire time in 'getex' command\r\n"},
		{"GETEX nosuch EX abc", "$-1\r\n"},
		{"GETEX nosuch EX 0", "$-1\r\n"},
		{"GETEX nosuch bogus", "-ERR syntax error\r\n"},
		{"GETEX nosuch", "$-1\r\n"},
	})
}

func TestStringsAppendRange(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"APPEND ap hello", ":5\r\n"},
		{"APPEND ap \" world\"", ":11\r\n"},
		{"GET ap", "$11\r\nhello world\r\n"},
		{"STRLEN ap", ":11\r\n"},
		{"APPEND ap \"\"", ":11\r\n"},
		{"APPEND apempty \"\"", ":0\r\n"},
		{"STRLEN apempty", ":0\r\n"},
		{"APPEND apbin \"\\x00\\x01\"", ":2\r\n"},
		{"APPEND apbin \"\\x00\"", ":3\r\n"},
		{"GET apbin", "$3\r\n\x00\x01\x00\r\n"},
		{"SET apn 12", "+OK\r\n"},
		{"APPEND apn 34", ":4\r\n"},
		{"INCR apn", ":1235\r\n"},
		{"STRLEN nosuch", ":0\r\n"},
		{"SET s \"This is a string\"", "+OK\r\n"},
		{"GETRANGE s 0 3", "$4\r\nThis\r\n"},
		{"GETRANGE s -3 -1", "$3\r\ning\r\n"},
		{"GETRANGE s 0 -1", "$16\r\nThis is a string\r\n"},
		{"GETRANGE s 10 100", "$6\r\nstring\r\n"},
		{"GETRANGE s 100 200", "$0\r\n\r\n"},
		{"GETRANGE s 5 3", "$0\r\n\r\n"},
		{"GETRANGE s -1 -5", "$0\r\n\r\n"},
		{"GETRANGE s -100 -99", "$1\r\nT\r\n"},
		{"GETRANGE s 0 -100", "$1\r\nT\r\n"},
		{"GETRANGE s -9223372036854775808 9223372036854775807", "$16\r\nThis is a string\r\n"},
		{"GETRANGE s 9223372036854775807 -9223372036854775808", "$0\r\n\r\n"},
		{"GETRANGE s 0 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
		{"GETRANGE s a 1", "-ERR value is not an integer or out of range\r\n"},
		{"GETRANGE nosuch 0 -1", "$0\r\n\r\n"},
		{"SUBSTR s 2 4", "$3\r\nis \r\n"},
		{"SET s 1234567", "+OK\r\n"},
		{"GETRANGE s -2 -1", "$2\r\n67\r\n"},
		{"SET s \"\"", "+OK\r\n"},
		{"GETRANGE s 0 0", "$0\r\n\r\n"},
		{"SETRANGE sr 5 hello", ":10\r\n"},
		{"GET sr", "$10\r\n\x00\x00\x00\x00\x00hello\r\n"},
		{"SETRANGE sr 0 HE", ":10\r\n"},
		{"SETRANGE sr 8 \"\\x00LOWORLD\"", ":16\r\n"},
		{"GET sr", "$16\r\nHE\x00\x00\x00hel\x00LOWORLD\r\n"},
		{"SETRANGE sr 2 \"\"", ":16\r\n"},
		{"SETRANGE sr 100 \"\"", ":16\r\n"},
		{"SETRANGE srnew 0 \"\"", ":0\r\n"},
		{"SETRANGE srnew 100 \"\"", ":0\r\n"},
		{"GET srnew", "$-1\r\n"},
		{"SETRANGE sr -1 x", "-ERR offset is out of range\r\n"},
		{"SETRANGE sr -1 \"\"", "-ERR offset is out of range\r\n"},
		{"SETRANGE sr x y", "-ERR value is not an integer or out of range\r\n"},
		{"SETRANGE sr 9223372036854775808 y", "-ERR value is not an integer or out of range\r\n"},
		{"SETRANGE sr 536870911 ab", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{"SETRANGE srbig 536870911 ab", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{"SETRANGE srbig 9223372036854775807 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{"SETRANGE srbig 536870912 \"\"", ":0\r\n"},
		{"GET srbig", "$-1\r\n"},
	})
}

func TestStringsIncr(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"INCR ctr", ":1\r\n"},
		{"INCR ctr", ":2\r\n"},
		{"DECR ctr", ":1\r\n"},
		{"INCRBY ctr 10", ":11\r\n"},
		{"INCRBY ctr -20", ":-9\r\n"},
		{"DECRBY ctr 5", ":-14\r\n"},
		{"DECRBY ctr -5", ":-9\r\n"},
		{"SET ctr 9223372036854775806", "+OK\r\n"},
		{"INCR ctr", ":9223372036854775807\r\n"},
		{"INCR ctr", "-ERR increment or decrement would overflow\r\n"},
		{"SET ctr -9223372036854775807", "+OK\r\n"},
		{"DECR ctr", ":-9223372036854775808\r\n"},
		{"DECR ctr", "-ERR increment or decrement would overflow\r\n"},
		{"INCRBY ctr 9223372036854775807", ":-1\r\n"},
		{"INCRBY ctr 9223372036854775807", ":9223372036854775806\r\n"},
		{"DECRBY ctr -9223372036854775808", "-ERR decrement would overflow\r\n"},
		{"INCRBY ctr 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBY ctr abc", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBY ctr \" 1\"", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBY ctr +1", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBY ctr 01", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBY ctr -0", "-ERR value is not an integer or out of range\r\n"},
		{"DECRBY ctr 1.5", "-ERR value is not an integer or out of range\r\n"},
		{"SET str abc", "+OK\r\n"},
		{"INCR str", "-ERR value is not an integer or out of range\r\n"},
		{"SET str \"1 \"", "+OK\r\n"},
		{"INCR str", "-ERR value is not an integer or out of range\r\n"},
		{"SET str 01", "+OK\r\n"},
		{"INCR str", "-ERR value is not an integer or out of range\r\n"},
		{"SET str 99999999999999999999", "+OK\r\n"},
		{"INCR str", "-ERR value is not an integer or out of range\r\n"},
		{"SET str \"\"", "+OK\r\n"},
		{"DECR str", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBYFLOAT fl 10.5", "$4\r\n10.5\r\n"},
		{"INCRBYFLOAT fl 0.1", "$4\r\n10.6\r\n"},
		{"INCRBYFLOAT fl 3.0e3", "$22\r\n3010.60000000000000009\r\n"},
		{"INCRBYFLOAT fl 5.0e-1", "$22\r\n3011.10000000000000009\r\n"},
		{"INCRBYFLOAT fl -3011.1", "$1\r\n0\r\n"},
		{"SET fl 0.1", "+OK\r\n"},
		{"INCRBYFLOAT fl 0.2", "$3\r\n0.3\r\n"},
		{"SET fl 5", "+OK\r\n"},
		{"INCRBYFLOAT fl 2", "$1\r\n7\r\n"},
		{"SET fl 1", "+OK\r\n"},
		{"INCRBYFLOAT fl -1", "$1\r\n0\r\n"},
		{"INCRBYFLOAT fl -0.00000000000000000001", "$1\r\n0\r\n"},
		{"INCRBYFLOAT fl 0.000000000000000015", "$19\r\n0.00000000000000002\r\n"},
		{"SET fl 1", "+OK\r\n"},
		{"INCRBYFLOAT fl 1e20", "$21\r\n100000000000000000000\r\n"},
		{"INCRBYFLOAT fl 1.5e30", "$31\r\n1500000000099999999945187786752\r\n"},
		{"INCRBYFLOAT fl -1.7976931348623157e308", "$310\r\n-179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384\r\n"},
		{"INCRBYFLOAT fl 1e5000", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl 1e4932", "$4933\r\n1000000000000000000006018949387963891323837774254533114773785041352533019486608722407533327779433142773666525563666277682061860906440460336623416164931097542108653623739947237824273607755646282077337746770628281083461244709457643633409272844851420914666765408339856497738306756454137037618440476182982865954054046320908299555942321302503320602080070208203623921079151881460203745014774931620490030394998719312614654064081373493248877120892455186383753439197870978041502797716880193955403107721911638646256939484197293128160329482360996995779489224859264034146949087194820794222433687849284561987230134006305414553626323614864479565079390052761980633463640128979696615362545507608303960553830866145592644372289102918602696741767741297153998359263135897985849697638678310586803720024647593066044070323761747439375151949994191528876172274034561238465689530914002496208547488452249219821049217690359246594326188537200846025476936856707726986425804304053688317572380292690880454677852210458790733177421098965346383845533016192965653377533421097553773202105452559589360227732550843545717469715211293029277100649951579279463212875228768700827274629951331584994203243708412190948315614798641721054158397351395747758548328754270534225721361640356227816080094892433366902417454242382629232277544026609640255325557814321580325340352330660617642326696140257239552549121071985189443846777623334881929189773707008403466595204838733621633273383631944856989484138444978386656058755310848833689791896484998847550364264104800800578245511762594691161545730891319744107953897993101008217601269310629890308357893793344340072837782716410520818640099771094401772024731084835860689936533035726854175396195351768096519310944631445923638053214575993378468775292865871435742249777979822775014324475845899615096380079899099538453121043851821349178371736640702645304284254885437611441690360616466368202194307769462209963387690446576691969551571041941288302648912827345194286271122230347823246073498285153708579500062656222714954113329293953346495615947784091175883554988117167387650681525781361864450364992605079129770604793291076559668041153558254765774288831330658676910296506538343982699076824147706077401185501337053676875440863113630172067902223837838525802181406003942606507609826320015193807633035586661539150425605940691768637845815434184585255915074081317250319572700370579877977177644345205933505850374212779064837146242765034714569464306865784829936445754893825213995710137567750342556762329137973387913047300554841737506800154984198686923965286147079273203561004647365286049876790788288301130050437207489067798842078443360167772245834103629301041345252122743437501935254370757049878526838283810705343010153283985958550741661374001212323172562230037290597675029278865489570268803618001520280748588481858632332145422181524500970533738858652881625738158955840469334830106366243262210429210258173978186522208306814207038831590332622155464159216193005478809313772661406449321989529908990407599717265354887081027622412165764793106246309910984757869627982700885055259900973567128498437782671492610351088858271463387495833021819318548705558606395846070390500323204636339383655528123657438115225035433947543876805317781492691295772410403746456774175666884503175504415270824258750305653788473882671038340481278188648013647450190431469737277008003041204693859153544058059108384516541261521127088116402349679151317227395183628490922161336429757386698401928682323657056924758648793848799822907606679071280964393541325129231682456669123450140879120137931548652537601508656209183486928384515842973760163601756230697826779237275078471824258664382133759876151537532598429521999758431018087001817485300919479583171049967781322202936864648780744025361452947117776701129210049872555316467204668470989130203733391349501708713181244068921199587314823974568234174792429139799088587794666528769986602820375968045445209219875596678877912103336949894142378173648692130854177898020194629670311101994938157038765957014792056173739623614871557317714453597336202068774935086409386414223375141765601758268418764114651053088281009248246110195084364468926837572992870110411414878770616397817334529367403238061699632089293543118185299881280463481800696201966723511922556078483839325067415562633057448408746541808590342228476964416681055875561781810005936328191844815915658719683522845979901018335050006246392027657149580332319739660376707180429166280658258434773362764563277134220525779869893832824866422909928484939374964071386248088592408142723646533801882861736205992781965360090000802821408763787641023437653119263757280212773694655213507075717622521160227187157631635583682130089364682543007292042009976150135189415923413244100006421082817394988300265734422677548100741829682842668334472314928702968616204691717366798642916146473018363370523427203416579250811577900985980957404830019403600361860520985937973506956557739754741783354728589350876379371163141086538418113791886622720\r\n"},
		{"SET fl 1.18e4932", "+OK\r\n"},
		{"INCRBYFLOAT fl 1.18e4932", "-ERR increment would produce NaN or Infinity\r\n"},
		{"SET fl 1", "+OK\r\n"},
		{"INCRBYFLOAT fl 0x10", "$2\r\n17\r\n"},
		{"INCRBYFLOAT fl 0X1.8p1", "$2\r\n20\r\n"},
		{"INCRBYFLOAT fl 0x", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl 1e", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl .5", "$4\r\n20.5\r\n"},
		{"INCRBYFLOAT fl 5.", "$4\r\n25.5\r\n"},
		{"INCRBYFLOAT fl .", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl 1_0", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl 0e99999999999", "$4\r\n25.5\r\n"},
		{"INCRBYFLOAT fl 1e-5000", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl inf", "-ERR increment would produce NaN or Infinity\r\n"},
		{"INCRBYFLOAT fl -Infinity", "-ERR increment would produce NaN or Infinity\r\n"},
		{"INCRBYFLOAT fl nan", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl \" 1\"", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT fl \"1 \"", "-ERR value is not a valid float\r\n"},
		{"GET fl", "$4\r\n25.5\r\n"},
		{"SET fl inf", "+OK\r\n"},
		{"INCRBYFLOAT fl 1", "-ERR increment would produce NaN or Infinity\r\n"},
		{"SET fl abc", "+OK\r\n"},
		{"INCRBYFLOAT fl 1", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT nosuch abc", "-ERR value is not a valid float\r\n"},
		{"GET nosuch", "$-1\r\n"},
	})
}

func TestStringsLCS(t *testing.T) {
	for _, tc := range []struct {
		proto int
		steps []step
	}{
		{2, []step{
			{"SET la ohmytext", "+OK\r\n"},
			{"SET lb mynewtext", "+OK\r\n"},
			{"LCS la lb", "$6\r\nmytext\r\n"},
			{"LCS la lb LEN", ":6\r\n"},
			{"LCS la lb IDX", "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb IDX MINMATCHLEN 4 WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb IDX MINMATCHLEN -1 WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb MINMATCHLEN 4", "$6\r\nmytext\r\n"},
			{"LCS la lb LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
			{"LCS la lb MINMATCHLEN", "-ERR syntax error\r\n"},
			{"LCS la lb MINMATCHLEN x", "-ERR value is not an integer or out of range\r\n"},
			{"LCS la lb bogus", "-ERR syntax error\r\n"},
			{"LCS la lb bogus LEN IDX", "-ERR syntax error\r\n"},
			{"LCS la nosuch", "$0\r\n\r\n"},
			{"LCS la nosuch IDX WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
			{"SET lc \"a\\x00b\\x00c\"", "+OK\r\n"},
			{"SET ld \"\\x00b\\x00\"", "+OK\r\n"},
			{"LCS lc ld IDX WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:3\r\n*2\r\n:0\r\n:2\r\n:3\r\n$3\r\nlen\r\n:3\r\n"},
			{"SET lh \"abcabcabcabcxxxabcabc\"", "+OK\r\n"},
			{"SET li \"xabcabcxyzabcxxxabcbc\"", "+OK\r\n"},
			{"LCS lh li", "$17\r\nabcabcabcxxxabcbc\r\n"},
			{"LCS lh li IDX MINMATCHLEN 3 WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:9\r\n:17\r\n*2\r\n:10\r\n:18\r\n:9\r\n*3\r\n*2\r\n:3\r\n:8\r\n*2\r\n:1\r\n:6\r\n:6\r\n$3\r\nlen\r\n:17\r\n"},
			{"SETRANGE lbig1 12000 x", ":12001\r\n"},
			{"SETRANGE lbig2 12000 y", ":12001\r\n"},
			{"LCS lbig1 lbig2 LEN", "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"},
		}},
		{3, []step{
			{"SET la ohmytext", "+OK\r\n"},
			{"SET lb mynewtext", "+OK\r\n"},
			{"LCS la lb", "$6\r\nmytext\r\n"},
			{"LCS la lb LEN", ":6\r\n"},
			{"LCS la lb IDX", "%2\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb IDX MINMATCHLEN 4 WITHMATCHLEN", "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb IDX MINMATCHLEN -1 WITHMATCHLEN", "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"},
			{"LCS la lb MINMATCHLEN 4", "$6\r\nmytext\r\n"},
			{"LCS la lb LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
			{"LCS la lb MINMATCHLEN", "-ERR syntax error\r\n"},
			{"LCS la lb MINMATCHLEN x", "-ERR value is not an integer or out of range\r\n"},
			{"LCS la lb bogus", "-ERR syntax error\r\n"},
			{"LCS la lb bogus LEN IDX", "-ERR syntax error\r\n"},
			{"LCS la nosuch", "$0\r\n\r\n"},
			{"LCS la nosuch IDX WITHMATCHLEN", "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
			{"SET lc \"a\\x00b\\x00c\"", "+OK\r\n"},
			{"SET ld \"\\x00b\\x00\"", "+OK\r\n"},
			{"LCS lc ld IDX WITHMATCHLEN", "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:3\r\n*2\r\n:0\r\n:2\r\n:3\r\n$3\r\nlen\r\n:3\r\n"},
			{"SET lh \"abcabcabcabcxxxabcabc\"", "+OK\r\n"},
			{"SET li \"xabcabcxyzabcxxxabcbc\"", "+OK\r\n"},
			{"LCS lh li", "$17\r\nabcabcabcxxxabcbc\r\n"},
			{"LCS lh li IDX MINMATCHLEN 3 WITHMATCHLEN", "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:9\r\n:17\r\n*2\r\n:10\r\n:18\r\n:9\r\n*3\r\n*2\r\n:3\r\n:8\r\n*2\r\n:1\r\n:6\r\n:6\r\n$3\r\nlen\r\n:17\r\n"},
			{"SETRANGE lbig1 12000 x", ":12001\r\n"},
			{"SETRANGE lbig2 12000 y", ":12001\r\n"},
			{"LCS lbig1 lbig2 LEN", "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"},
		}},
	} {
		x := newTester(t)
		x.ctx.W.Proto = tc.proto
		runSteps(t, x, tc.steps)
	}
}

// TestStringsWrongType runs every command against a key of another type.
// A zero Value stands for one: its kind is not KindString.
func TestStringsWrongType(t *testing.T) {
	x := newTester(t)
	x.node.ks.DB(0).Set([]byte("list"), keyspace.Value{}, 0)
	runSteps(t, x, []step{
		{"GET list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SET list v GET", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SET list v NX GET", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SET list v EX 0 GET", "-ERR invalid expire time in 'set' command\r\n"},
		{"GETSET list v", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"MGET list nosuch", "*2\r\n$-1\r\n$-1\r\n"},
		{"GETDEL list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETEX list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETEX list EX 100", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETEX list EX abc", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETEX list bogus", "-ERR syntax error\r\n"},
		{"APPEND list x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"STRLEN list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"INCR list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"DECRBY list 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"INCRBY list abc", "-ERR value is not an integer or out of range\r\n"},
		{"INCRBYFLOAT list 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"INCRBYFLOAT list abc", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETRANGE list 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETRANGE list a 0", "-ERR value is not an integer or out of range\r\n"},
		{"SUBSTR list 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SETRANGE list 0 x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SETRANGE list 0 \"\"", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SETRANGE list -1 x", "-ERR offset is out of range\r\n"},
		{"SETRANGE list 536870911 ab", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"LCS list la", "-ERR The specified keys must contain string values\r\n"},
		{"LCS la list", "-ERR The specified keys must contain string values\r\n"},
		{"LCS list la bogus", "-ERR The specified keys must contain string values\r\n"},
		{"MSETNX list v", ":0\r\n"},
		{"SETNX list v", ":0\r\n"},
		{"SET list v", "+OK\r\n"},
		{"GET list", "$1\r\nv\r\n"},
	})
}

// TestStringsDeadlines checks which commands set, keep or clear a key's
// deadline, against the fake clock.
func TestStringsDeadlines(t *testing.T) {
	x := newTester(t)
	now := x.node.now
	db := x.node.ks.DB(0)
	for _, tc := range []struct {
		cmds     []string
		key      string
		deadline int64 // 0: none; -1: the key is gone
	}{
		{[]string{"SET k v EX 10"}, "k", now + 10_000},
		{[]string{"SET k v PX 1500"}, "k", now + 1500},
		{[]string{"SET k v EXAT 1800000000"}, "k", 1_800_000_000_000},
		{[]string{"SET k v PXAT 1800000000123"}, "k", 1_800_000_000_123},
		{[]string{"SET k v EX 10", "SET k w KEEPTTL"}, "k", now + 10_000},
		{[]string{"SET k v EX 10", "SET k w XX KEEPTTL GET"}, "k", now + 10_000},
		{[]string{"SET k v EX 10", "SET k w"}, "k", 0},
		{[]string{"SET k v EX 10", "SET k w NX"}, "k", now + 10_000},
		{[]string{"SETEX k 100 v"}, "k", now + 100_000},
		{[]string{"PSETEX k 100 v"}, "k", now + 100},
		{[]string{"SET k v EX 10", "GETSET k w"}, "k", 0},
		{[]string{"SET k v EX 10", "MSET k w"}, "k", 0},
		{[]string{"SET k v EX 10", "SETNX k w"}, "k", now + 10_000},
		{[]string{"SET k v EX 10", "APPEND k w"}, "k", now + 10_000},
		{[]string{"SET k v EX 10", "SETRANGE k 5 w"}, "k", now + 10_000},
		{[]string{"SET k 1 EX 10", "INCRBY k 5"}, "k", now + 10_000},
		{[]string{"SET k 1 EX 10", "INCRBYFLOAT k 1.5"}, "k", now + 10_000},
		{[]string{"SET k v", "GETEX k EX 7"}, "k", now + 7000},
		{[]string{"SET k v", "GETEX k PXAT 1800000000000"}, "k", 1_800_000_000_000},
		{[]string{"SET k v EX 10", "GETEX k"}, "k", now + 10_000},
		{[]string{"SET k v EX 10", "GETEX k PERSIST"}, "k", 0},
		{[]string{"SET k v", "GETEX k EXAT 1"}, "k", -1},
		{[]string{"SET k v", "GETDEL k"}, "k", -1},
		{[]string{"SET k v EXAT 1"}, "k", -1},
	} {
		x.do("DEL k")
		for _, c := range tc.cmds {
			x.do(c)
		}
		got := db.Deadline([]byte(tc.key))
		if db.Get([]byte(tc.key), now) == nil {
			got = -1
		}
		if got != tc.deadline {
			t.Errorf("%q: deadline %d, want %d", tc.cmds, got, tc.deadline)
		}
	}
}

func TestStringsExpiry(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v EX 10", "+OK\r\n")
	x.expect("SETEX s 10 v", "+OK\r\n")
	x.node.now += 9999
	x.expect("GET k", "$1\r\nv\r\n")
	x.expect("MGET k s", "*2\r\n$1\r\nv\r\n$1\r\nv\r\n")
	x.node.now++
	x.expect("GET k", "$-1\r\n")
	x.expect("MGET k s", "*2\r\n$-1\r\n$-1\r\n")
	x.expect("STRLEN k", ":0\r\n")
	x.expect("SETNX k w", ":1\r\n")  // an expired key counts as absent
	x.expect("MSETNX s a", ":1\r\n") // and so for MSETNX
	x.expect("SET s b XX GET", "$1\r\na\r\n")
	x.expect("PSETEX p 5 v", "+OK\r\n")
	x.node.now += 5
	x.expect("INCR p", ":1\r\n") // not "v": that expired
	x.expect("PSETEX p 5 41", "+OK\r\n")
	x.node.now += 4
	x.expect("INCR p", ":42\r\n")
	x.node.now++
	x.expect("GET p", "$-1\r\n") // INCR kept the deadline
	x.expect("INCRBYFLOAT p 0.5", "$3\r\n0.5\r\n")
	x.expect("PSETEX p 5 abc", "+OK\r\n")
	x.node.now += 5
	x.expect("APPEND p x", ":1\r\n")
	x.expect("GETEX p PX 5", "$1\r\nx\r\n")
	x.node.now += 5
	x.expect("GETEX p", "$-1\r\n")
	x.expect("GETDEL p", "$-1\r\n")
}

// TestStringsEncodings checks the OBJECT ENCODING each command leaves, as
// Redis 7.0 reports it.
func TestStringsEncodings(t *testing.T) {
	x := newTester(t)
	db := x.node.ks.DB(0)
	for _, tc := range []struct {
		cmds []string
		want keyspace.Encoding
	}{
		{[]string{"SET k 12345"}, keyspace.EncInt},
		{[]string{"SET k -9223372036854775808"}, keyspace.EncInt},
		{[]string{"SET k 9223372036854775808"}, keyspace.EncEmbstr},
		{[]string{`SET k "12345 "`}, keyspace.EncEmbstr},
		{[]string{"SET k 012"}, keyspace.EncEmbstr},
		{[]string{"SET k aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, keyspace.EncEmbstr},
		{[]string{"SET k aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, keyspace.EncRaw},
		{[]string{"APPEND k 123"}, keyspace.EncInt},
		{[]string{"APPEND k hi"}, keyspace.EncEmbstr},
		{[]string{"APPEND k 1", "APPEND k 2"}, keyspace.EncRaw},
		{[]string{"SET k 1", "APPEND k \"\""}, keyspace.EncRaw},
		{[]string{"SET k 1", "SETRANGE k 0 \"\""}, keyspace.EncInt},
		{[]string{"SET k 1", "SETRANGE k 0 2"}, keyspace.EncRaw},
		{[]string{"SETRANGE k 0 a"}, keyspace.EncRaw},
		{[]string{"INCR k"}, keyspace.EncInt},
		{[]string{"SET k abc", "SET k 10", "INCRBY k 5"}, keyspace.EncInt},
		{[]string{"INCRBYFLOAT k 3"}, keyspace.EncEmbstr},
		{[]string{"INCRBYFLOAT k 1e50"}, keyspace.EncRaw},
		{[]string{"MSET k 1 j x"}, keyspace.EncInt},
		{[]string{"GETSET k 7"}, keyspace.EncInt},
		{[]string{"SETEX k 100 x"}, keyspace.EncEmbstr},
		{[]string{"SETNX k 9"}, keyspace.EncInt},
	} {
		x.do("DEL k")
		for _, c := range tc.cmds {
			x.do(c)
		}
		v := db.Get([]byte("k"), x.node.now)
		if v == nil || v.Encoding() != tc.want {
			t.Errorf("%q: encoding %v, want %v", tc.cmds, v.Encoding(), tc.want)
		}
	}
}

// TestStringsInPlace checks that APPEND and SETRANGE, which change a value
// in place, never change bytes already handed out.
func TestStringsInPlace(t *testing.T) {
	x := newTester(t)
	x.expect("SET k abc", "+OK\r\n")
	x.expect("APPEND k d", ":4\r\n")
	old := x.do("GETSET k xyz")
	x.expect("APPEND k 1", ":4\r\n")
	x.expect("SETRANGE k 0 Z", ":4\r\n")
	if old != "$4\r\nabcd\r\n" {
		t.Errorf("GETSET reply changed to %q", old)
	}
	x.expect("GET k", "$4\r\nZyz1\r\n")
	x.expect("SETRANGE k 6 !", ":7\r\n")
	x.expect("GET k", "$7\r\nZyz1\x00\x00!\r\n")
}

func TestLongDouble(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"10.5", "10.5"},
		{"3.0e3", "3000"},
		{"5.0e-1", "0.5"},
		{"-0", "0"},
		{"-0.0000000000000000001", "0"},
		{"0.000000000000000015", "0.00000000000000002"},
		{"1.1", "1.1"},
		{"0x1.8p1", "3"},
		{"+.5", "0.5"},
		{"1e20", "100000000000000000000"},
		{"1e-4940", "0"},
		{"INF", "inf"},
		{"-infinity", "-inf"},
		{"1e400", "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"},
	} {
		x, ok := parseLongDouble([]byte(tc.in))
		if !ok {
			t.Errorf("parse %q failed", tc.in)
			continue
		}
		if got := string(formatLongDouble(x)); got != tc.out {
			t.Errorf("%q printed %q, want %q", tc.in, got, tc.out)
		}
	}
	for _, bad := range []string{
		"", " 1", "1 ", "1\x00", "nan", "-nan", "abc", ".", "1e", "1e+", "0x", "0x1p", "1_0",
		"0b101", "infinit", "1e5000", "-1e5000", "1e-5000", "1.8e-4951", "0x1p-16446", "- 1",
	} {
		if _, ok := parseLongDouble([]byte(bad)); ok {
			t.Errorf("parse %q succeeded", bad)
		}
	}
	for _, good := range []string{"0e99999999999", "1.9e-4951", "0x1p-16445", "1.18e4932", "5.", ".5", "0X.8P1"} {
		if _, ok := parseLongDouble([]byte(good)); !ok {
			t.Errorf("parse %q failed", good)
		}
	}
}

// TestStringsMalformedOps: an op with the wrong argument count is an error
// reply on every node, never a panic.
func TestStringsMalformedOps(t *testing.T) {
	table := NewTable()
	ks := keyspace.New(1)
	for _, typ := range []op.Type{op.Set, op.MSet, op.Append, op.IncrBy, op.IncrByFloat, op.SetRange, op.GetDel, op.GetEx} {
		for _, args := range [][][]byte{nil, {[]byte("k")}, {[]byte("k"), []byte("v"), []byte("x")}} {
			o := &op.Op{Type: typ, Args: args, Int: -1}
			if typ == op.MSet && len(args) == 0 {
				continue // MSET of nothing is well formed
			}
			if (typ == op.GetDel || typ == op.GetEx || typ == op.IncrBy) && len(args) == 1 {
				continue
			}
			if _, isErr := table.Apply(ks, o).(error); !isErr {
				t.Errorf("%s with %d args: no error", typ, len(args))
			}
		}
	}
}

// TestLCSWalk checks, on random strings, that the subsequence is common to
// both, as long as LEN says, and that the IDX ranges spell it out.
func TestLCSWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func() []byte {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return b
	}
	isSubseq := func(s, of []byte) bool {
		i := 0
		for j := 0; i < len(s) && j < len(of); j++ {
			if s[i] == of[j] {
				i++
			}
		}
		return i == len(s)
	}
	for n := 0; n < 500; n++ {
		a, b := gen(), gen()
		total, _ := lcsTable(a, b, false)
		total2, up := lcsTable(a, b, true)
		res, matches := lcsWalk(a, b, total2, up, 0)
		if total != total2 || len(res) != total || !isSubseq(res, a) || !isSubseq(res, b) {
			t.Fatalf("%q %q: len %d/%d, lcs %q", a, b, total, total2, res)
		}
		var spelled []byte
		for i := len(matches) - 1; i >= 0; i-- {
			m := matches[i]
			if string(a[m.a0:m.a1+1]) != string(b[m.b0:m.b1+1]) {
				t.Fatalf("%q %q: range %+v differs", a, b, m)
			}
			spelled = append(spelled, a[m.a0:m.a1+1]...)
		}
		if string(spelled) != string(res) {
			t.Fatalf("%q %q: ranges spell %q, lcs %q", a, b, spelled, res)
		}
	}
}
